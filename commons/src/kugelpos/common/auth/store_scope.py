"""Tenant- and store-scoped access: `tenant_access`, any credential of the path's tenant (user,
service or terminal JWT, terminal API key), for every service whose paths start with
`/tenants/{tenant_id}`; `store_reader` for paths `/tenants/{tenant_id}/stores/{store_code}/…`
(journal, report), where a terminal credential reads only its own store. Who may write is each
operation's policy (`auth.access`).

No `from __future__ import annotations` here: the dependencies built by the factories below are
closures, and FastAPI must see their annotations as objects."""

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Path, Query

from ..errors import PermissionDeniedError
from ..schemas import TenantId
from .dependencies import CurrentPrincipal, ensure_tenant
from .policy import terminal_store
from .principal import Principal, PrincipalKind

StoreCode = Annotated[str, Path(min_length=1, max_length=64)]
TerminalNo = Annotated[int, Path(ge=0, le=2**31 - 1)]


async def tenant_access(
    tenant_id: TenantId,
    principal: CurrentPrincipal,
    terminal_id: Annotated[
        str | None, Query(max_length=128, description="with X-API-KEY: the calling terminal")
    ] = None,
    is_terminal_service: Annotated[
        bool | None, Query(description="v1 compatibility: accepted and ignored")
    ] = False,
) -> Principal:
    """Any credential of the path's tenant."""
    ensure_tenant(principal, tenant_id)
    return principal


type TenantPrincipal = Annotated[Principal, Depends(tenant_access)]


def store_reader(denied: str) -> Callable[..., Awaitable[Principal]]:
    """Dependency: a principal of the path's tenant; a terminal only for its own store."""

    async def read_access(principal: TenantPrincipal, store_code: StoreCode) -> Principal:
        if principal.kind is PrincipalKind.TERMINAL and terminal_store(principal) != store_code:
            raise PermissionDeniedError(denied)
        return principal

    return read_access
