"""Wiring: build the services a request needs from the process-wide objects, and the
credential dependencies specific to the terminal service."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Query, Request

from kugelpos.common.auth.dependencies import BearerCredentials, authenticator
from kugelpos.common.auth.policy import OWN_TILL, Access, declare
from kugelpos.common.auth.principal import Principal, PrincipalKind
from kugelpos.common.errors import AuthenticationError, PermissionDeniedError
from kugelpos.common.events.outbox import Outbox
from kugelpos.common.web.app import get_wiring

from .auth.service import TerminalTokenService
from .lifecycle.offline import OfflineSessions
from .lifecycle.service import LifecycleService
from .lifecycle.staff import StaffDirectory
from .stores.service import StoreService
from .tenants.service import TenantService
from .terminals.documents import TerminalDocument
from .terminals.service import TerminalService, terminal_principal
from .wiring import TerminalWiring

type TerminalWiringDep = Annotated[TerminalWiring, Depends(get_wiring)]


async def get_tenant_service(wiring: TerminalWiringDep) -> TenantService:
    return TenantService(wiring.infra.mongo, wiring.infra.http, wiring.settings)


type TenantServiceDep = Annotated[TenantService, Depends(get_tenant_service)]


async def get_store_service(wiring: TerminalWiringDep, tenants: TenantServiceDep) -> StoreService:
    return StoreService(wiring.infra.mongo, tenants)


async def get_terminal_service(
    wiring: TerminalWiringDep, tenants: TenantServiceDep
) -> TerminalService:
    return TerminalService(wiring.infra.mongo, tenants, wiring.announcer.announce)


type StoreServiceDep = Annotated[StoreService, Depends(get_store_service)]
type TerminalServiceDep = Annotated[TerminalService, Depends(get_terminal_service)]


async def get_token_service(wiring: TerminalWiringDep) -> TerminalTokenService:
    return TerminalTokenService(
        wiring.infra.auth.codec, wiring.settings.terminal_token_expire_hours
    )


type TerminalTokenServiceDep = Annotated[TerminalTokenService, Depends(get_token_service)]


async def get_outbox(wiring: TerminalWiringDep) -> Outbox:
    return wiring.outbox


type OutboxDep = Annotated[Outbox, Depends(get_outbox)]


async def get_lifecycle_service(
    wiring: TerminalWiringDep, tenants: TenantServiceDep, terminals: TerminalServiceDep
) -> LifecycleService:
    infra, settings = wiring.infra, wiring.settings
    return LifecycleService(
        mongo=infra.mongo,
        terminals=terminals,
        tenants=tenants,
        staff=StaffDirectory(infra.http, infra.auth.codec, settings),
        limiter=wiring.pin_limiter,
        outbox=wiring.outbox,
        http=infra.http,
        codec=infra.auth.codec,
        settings=settings,
    )


type LifecycleServiceDep = Annotated[LifecycleService, Depends(get_lifecycle_service)]


async def get_offline_sessions(
    wiring: TerminalWiringDep, lifecycle: LifecycleServiceDep
) -> OfflineSessions:
    return OfflineSessions(lifecycle, wiring.settings.timezone)


type OfflineSessionsDep = Annotated[OfflineSessions, Depends(get_offline_sessions)]


type ApiKey = Annotated[str | None, Header(alias="X-API-KEY")]


async def get_key_owner(
    request: Request,
    bearer: BearerCredentials,
    terminals: TerminalServiceDep,
    x_api_key: ApiKey = None,
    terminal_id: Annotated[str | None, Query(max_length=128)] = None,
) -> TerminalDocument:
    """The terminal behind the credential itself (product endpoints without a path id):
    its API key, or its terminal JWT. A `terminal_id` given must be that terminal."""
    if bearer is not None:
        principal = await authenticator(request).token_principal(bearer.credentials)
        if principal.kind is not PrincipalKind.TERMINAL or not principal.terminal_id:
            raise PermissionDeniedError("Only a terminal credential may call this endpoint")
        terminal = await terminals.get(principal.terminal_id)
    elif x_api_key:
        terminal = await terminals.find_by_api_key(x_api_key)
    else:
        raise AuthenticationError("Not authenticated: no token or API key provided")
    if terminal_id is not None and terminal_id != terminal.terminal_id:
        raise PermissionDeniedError("terminal_id does not match the credential's terminal")
    return terminal


declare(get_key_owner, Access(frozenset({OWN_TILL}), note="its own API key or JWT"))
type KeyOwner = Annotated[TerminalDocument, Depends(get_key_owner)]


def owner_principal(terminal: TerminalDocument) -> Principal:
    return terminal_principal(terminal)
