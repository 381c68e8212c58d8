"""Wiring: build the services a request needs from the process-wide infrastructure, and the
credential dependencies specific to the terminal service."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Query, Request

from kugelpos.common.auth.dependencies import BearerCredentials, authenticator
from kugelpos.common.auth.policy import OWN_TILL, Access, declare
from kugelpos.common.auth.principal import Principal, PrincipalKind
from kugelpos.common.errors import AuthenticationError, PermissionDeniedError
from kugelpos.common.events.changes import ChangeAnnouncer
from kugelpos.common.events.outbox import Outbox
from kugelpos.common.events.publisher import outbox_of
from kugelpos.common.throttle import AttemptLimiter
from kugelpos.common.web.app import Infrastructure, infrastructure

from .auth.service import TerminalTokenService
from .config import TerminalSettings
from .lifecycle.service import LifecycleService
from .lifecycle.staff import StaffDirectory
from .stores.service import StoreService
from .tenants.service import TenantService
from .terminals.documents import TerminalDocument
from .terminals.service import TerminalService, terminal_principal

type Infra = Annotated[Infrastructure, Depends(infrastructure)]


def _settings(infra: Infrastructure) -> TerminalSettings:
    settings = infra.settings
    assert isinstance(settings, TerminalSettings)
    return settings


async def get_tenant_service(infra: Infra) -> TenantService:
    return TenantService(infra.mongo, infra.http, _settings(infra))


type Tenants = Annotated[TenantService, Depends(get_tenant_service)]


async def get_store_service(infra: Infra, tenants: Tenants) -> StoreService:
    return StoreService(infra.mongo, tenants)


def _announcer(infra: Infrastructure) -> ChangeAnnouncer:
    """One per process: it keeps the notices in flight alive until published."""
    announcer = infra.extras.get("terminal_announcer")
    if announcer is None:
        announcer = infra.extras["terminal_announcer"] = ChangeAnnouncer(infra.dapr)
    return announcer


async def get_terminal_service(infra: Infra, tenants: Tenants) -> TerminalService:
    return TerminalService(infra.mongo, tenants, _announcer(infra).announce)


type Stores = Annotated[StoreService, Depends(get_store_service)]
type Terminals = Annotated[TerminalService, Depends(get_terminal_service)]


async def get_token_service(infra: Infra) -> TerminalTokenService:
    return TerminalTokenService(infra.auth.codec, _settings(infra).terminal_token_expire_hours)


type TerminalTokens = Annotated[TerminalTokenService, Depends(get_token_service)]


def _pin_limiter(infra: Infrastructure) -> AttemptLimiter:
    settings = _settings(infra)
    return infra.limiter(
        "terminal-pin-failures",
        free_attempts=settings.pin_max_failures,
        forget_after_seconds=settings.pin_failure_window_seconds,
        base_delay_seconds=settings.pin_delay_seconds,
        max_delay_seconds=settings.pin_max_delay_seconds,
    )


async def get_outbox(infra: Infra) -> Outbox:
    return outbox_of(infra)


async def get_lifecycle_service(
    infra: Infra, tenants: Tenants, terminals: Terminals
) -> LifecycleService:
    settings = _settings(infra)
    return LifecycleService(
        mongo=infra.mongo,
        terminals=terminals,
        tenants=tenants,
        staff=StaffDirectory(infra.http, infra.auth.codec, settings),
        limiter=_pin_limiter(infra),
        outbox=outbox_of(infra),
        http=infra.http,
        codec=infra.auth.codec,
        settings=settings,
    )


type Lifecycle = Annotated[LifecycleService, Depends(get_lifecycle_service)]


class LocalTerminalCredentials:
    """The terminal service checks terminal credentials against its own database (the
    other services ask it over HTTP: commons `RemoteTerminalResolver`)."""

    def __init__(self, terminals: TerminalService) -> None:
        self._terminals = terminals

    async def __call__(self, terminal_id: str, api_key: str) -> Principal:
        return await self._terminals.resolve_api_key(terminal_id, api_key)

    async def verify_token(self, principal: Principal) -> Principal:
        return await self._terminals.verify_token(principal)

    async def forget(self, terminal_id: str) -> None:
        """Nothing cached here: every check reads the terminal."""


def terminal_credentials(infra: Infrastructure) -> LocalTerminalCredentials:
    """Plugged into commons' `get_principal`: X-API-KEY + terminal_id, or a terminal JWT."""
    tenants = TenantService(infra.mongo, infra.http, _settings(infra))
    return LocalTerminalCredentials(TerminalService(infra.mongo, tenants))


type ApiKey = Annotated[str | None, Header(alias="X-API-KEY")]


async def get_key_owner(
    request: Request,
    bearer: BearerCredentials,
    terminals: Terminals,
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
