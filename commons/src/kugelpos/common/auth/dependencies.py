"""FastAPI dependencies that turn a request's credential into a `Principal`.

Order: a Bearer token wins (user, service or terminal JWT); otherwise `X-API-KEY` with the
terminal id from the path or the `terminal_id` query parameter. A present but invalid Bearer
never falls back to the API key. A terminal's credential, JWT or API key, is checked live
(`TerminalCredentials`): a deleted terminal or a rotated key is refused everywhere.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Protocol

from fastapi import Depends, Header, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from ..errors import AuthenticationError, PermissionDeniedError
from .api_keys import secrets_equal
from .policy import ADMIN, MANAGER, SERVICE, Access, declare
from .principal import Principal, PrincipalKind, Role
from .tokens import TokenCodec


class ApiKeyResolver(Protocol):
    async def __call__(self, terminal_id: str, api_key: str) -> Principal: ...


class TerminalCredentials(ApiKeyResolver, Protocol):
    """How a service checks a terminal's credentials against the terminal as it is now."""

    async def verify_token(self, principal: Principal) -> Principal:
        """A terminal JWT whose signature is valid: its terminal's live principal, or 401."""
        ...

    async def forget(self, terminal_id: str) -> None:
        """Drop what is cached of one terminal (a `terminal_changed` notice)."""
        ...


class Authenticator:
    """Lives on `app.state.auth`; services plug in how terminal credentials are checked.

    `terminals` checks terminal JWTs; `api_keys` says whether `X-API-KEY` is a credential
    at all on this service (its contract declares it), checked by the same object."""

    def __init__(
        self,
        codec: TokenCodec,
        *,
        terminals: TerminalCredentials | None = None,
        api_keys: bool = True,
        notify_api_key: str | None = None,
    ) -> None:
        self.codec = codec
        self.terminals = terminals
        self.api_keys = api_keys
        self.notify_api_key = notify_api_key

    @property
    def api_key_resolver(self) -> ApiKeyResolver | None:
        return self.terminals if self.api_keys else None

    async def token_principal(self, token: str) -> Principal:
        """A verified bearer token; a terminal's is checked live (deleted, re-keyed: 401)."""
        principal = self.codec.principal(token)
        if principal.kind is PrincipalKind.TERMINAL:
            if self.terminals is None:
                raise AuthenticationError("Terminal credentials are not accepted here")
            principal = await self.terminals.verify_token(principal)
        return principal

    async def forget_terminal(self, terminal_id: str) -> None:
        if self.terminals is not None:
            await self.terminals.forget(terminal_id)


_bearer = HTTPBearer(auto_error=False)
type BearerCredentials = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
type ApiKeyHeader = Annotated[str | None, Header(alias="X-API-KEY", include_in_schema=True)]


def authenticator(request: Request) -> Authenticator:
    return request.app.state.auth


def _terminal_id(request: Request) -> str | None:
    return request.path_params.get("terminal_id") or request.query_params.get("terminal_id")


async def get_principal(
    request: Request, bearer: BearerCredentials, x_api_key: ApiKeyHeader = None
) -> Principal:
    auth = authenticator(request)
    if bearer is not None:
        return await auth.token_principal(bearer.credentials)
    if x_api_key:
        terminal_id = _terminal_id(request)
        if not terminal_id:
            raise AuthenticationError("terminal_id is required with X-API-KEY")
        if auth.api_key_resolver is None:
            raise AuthenticationError("API key authentication is not available here")
        return await auth.api_key_resolver(terminal_id, x_api_key)
    raise AuthenticationError("Not authenticated: no token or API key provided")


async def get_token_principal(request: Request, bearer: BearerCredentials) -> Principal:
    """Bearer only (user, service or terminal token)."""
    if bearer is None:
        raise AuthenticationError("Not authenticated")
    return await authenticator(request).token_principal(bearer.credentials)


type CurrentPrincipal = Annotated[Principal, Depends(get_principal)]
type TokenPrincipal = Annotated[Principal, Depends(get_token_principal)]


async def get_user(principal: TokenPrincipal) -> Principal:
    if principal.kind is not PrincipalKind.USER:
        raise PermissionDeniedError("A user token is required")
    return principal


type CurrentUser = Annotated[Principal, Depends(get_user)]


def require_roles(*roles: str) -> Callable[[Principal], Awaitable[Principal]]:
    """A user token whose roles include one of `roles` (a tenant superuser has them all)."""

    async def dependency(user: CurrentUser) -> Principal:
        if not user.has_any_role(*roles):
            raise PermissionDeniedError(f"One of the roles {', '.join(roles)} is required")
        return user

    return dependency


async def get_tenant_setup_caller(principal: TokenPrincipal) -> Principal:
    """Setting a tenant up (`POST /api/v1/tenants` of every service): a service token, or a
    user with the admin or manager role, as for creating the tenant at the terminal service
    that fans out with the creator's token. A terminal or a plain user is refused (403): set-up
    creates databases and indexes, which is a back office's business, not a till's."""
    if principal.kind is PrincipalKind.SERVICE:
        return principal
    if principal.kind is not PrincipalKind.USER:
        raise PermissionDeniedError("A terminal cannot set up a tenant")
    if not principal.has_any_role(Role.ADMIN.value, Role.MANAGER.value):
        raise PermissionDeniedError("Setting up a tenant needs the admin or manager role")
    return principal


declare(get_tenant_setup_caller, Access(frozenset({ADMIN, MANAGER, SERVICE})))
type TenantSetupCaller = Annotated[Principal, Depends(get_tenant_setup_caller)]


async def get_notifier(
    request: Request, bearer: BearerCredentials, x_api_key: ApiKeyHeader = None
) -> Principal | None:
    """Pub/sub acknowledgements: a service token, or the shared notify key (only here).

    Returns the service principal, or None when the notify key was used.
    """
    auth = authenticator(request)
    if bearer is not None:
        principal = auth.codec.principal(bearer.credentials)
        if principal.kind is not PrincipalKind.SERVICE:
            raise PermissionDeniedError("A service token is required")
        return principal
    if x_api_key and auth.notify_api_key and secrets_equal(x_api_key, auth.notify_api_key):
        return None
    raise AuthenticationError("Not authenticated")


declare(get_notifier, Access(frozenset({SERVICE}), note="or the notify key"))


def ensure_tenant(principal: Principal, tenant_id: str) -> None:
    """The tenant comes only from the credential; a different path tenant is refused."""
    if principal.tenant_id != tenant_id:
        raise PermissionDeniedError("Access to another tenant is not allowed")


def ensure_terminal(principal: Principal, terminal_id: str) -> None:
    """A terminal credential acts only for its own terminal."""
    if principal.kind is PrincipalKind.TERMINAL and principal.terminal_id != terminal_id:
        raise PermissionDeniedError("A terminal may act only for itself")
