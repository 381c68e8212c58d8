"""Wiring: build the services a request needs from the process-wide objects."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from kugelpos.common.auth.access import ADMIN, allow
from kugelpos.common.auth.dependencies import get_token_principal
from kugelpos.common.auth.principal import Principal
from kugelpos.common.web.app import get_wiring

from .tokens.service import TokenService
from .users.service import UserService
from .wiring import AccountWiring

type AccountWiringDep = Annotated[AccountWiring, Depends(get_wiring)]


async def get_user_service(wiring: AccountWiringDep) -> UserService:
    return UserService(wiring.infra.mongo, wiring.settings)


type UserServiceDep = Annotated[UserService, Depends(get_user_service)]


async def get_token_service(wiring: AccountWiringDep, users: UserServiceDep) -> TokenService:
    return TokenService(users, wiring.infra.auth.codec, wiring.login_limiter, wiring.settings)


type TokenServiceDep = Annotated[TokenService, Depends(get_token_service)]
# Creating users: the tenant's admin (re-read from the database: a disabled admin's token is
# refused by `UserService.ensure_active_admin`).
type AccountAdmin = Annotated[Principal, Depends(allow(ADMIN, source=get_token_principal))]
