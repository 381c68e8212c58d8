"""Wiring: build the services a request needs from the process-wide infrastructure."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from kugelpos.common.auth.access import ADMIN, allow
from kugelpos.common.auth.dependencies import get_token_principal
from kugelpos.common.auth.principal import Principal
from kugelpos.common.throttle import AttemptLimiter
from kugelpos.common.web.app import Infrastructure, infrastructure

from .config import AccountSettings
from .tokens.service import TokenService
from .users.service import UserService

type Infra = Annotated[Infrastructure, Depends(infrastructure)]


async def get_user_service(infra: Infra) -> UserService:
    settings = infra.settings
    assert isinstance(settings, AccountSettings)
    return UserService(infra.mongo, settings)


def _limiter(infra: Infrastructure) -> AttemptLimiter:
    settings = infra.settings
    assert isinstance(settings, AccountSettings)
    return infra.limiter(
        "login-failures",
        free_attempts=settings.login_max_failures,
        forget_after_seconds=settings.login_failure_window_seconds,
        base_delay_seconds=settings.login_delay_seconds,
        max_delay_seconds=settings.login_max_delay_seconds,
    )


async def get_token_service(
    infra: Infra, users: Annotated[UserService, Depends(get_user_service)]
) -> TokenService:
    settings = infra.settings
    assert isinstance(settings, AccountSettings)
    return TokenService(users, infra.auth.codec, _limiter(infra), settings)


type Users = Annotated[UserService, Depends(get_user_service)]
# Creating users: the tenant's admin (re-read from the database: a disabled admin's token is
# refused by `UserService.ensure_active_admin`).
type AccountAdmin = Annotated[Principal, Depends(allow(ADMIN, source=get_token_principal))]
type Tokens = Annotated[TokenService, Depends(get_token_service)]
