"""`/api/v1/cache/terminal`: what the terminal-info cache holds for the caller's tenant, and
clearing it (the v1 handlers failed with 422; these answer the envelope, spec §3.7)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends

from kugelpos.common.auth.access import ADMIN, MANAGER, SERVICE, allow
from kugelpos.common.auth.dependencies import TokenPrincipal, get_token_principal
from kugelpos.common.auth.principal import Principal
from kugelpos.common.envelope import ApiResponse, ok

from ..dependencies import CartWiringDep

router = APIRouter(prefix="/api/v1/cache", tags=["cache"])
CACHE_TYPE = "terminal_info"


@router.get("/terminal/status", response_model=ApiResponse[dict[str, Any]])
async def get_cache_status(wiring: CartWiringDep, principal: TokenPrincipal) -> ApiResponse[dict]:
    cache = wiring.terminals
    mine = cache.terminal_ids(principal.tenant_id)
    return ok(
        {
            "cache_type": CACHE_TYPE,
            "tenant_id": principal.tenant_id,
            "tenant_cache_size": len(mine),
            "total_cache_size": len(cache.terminal_ids()),
            "cached_terminal_ids": mine,
            "status": "active",
        },
        message="Terminal cache status",
        operation="get_cache_status",
    )


# Clearing only forces fresh checks, but it is the back office's (or a service's) to do.
type CacheClearer = Annotated[
    Principal, Depends(allow(ADMIN, MANAGER, SERVICE, source=get_token_principal))
]


@router.delete("/terminal", response_model=ApiResponse[dict[str, Any]])
async def clear_cache(wiring: CartWiringDep, principal: CacheClearer) -> ApiResponse[dict]:
    cleared = await wiring.terminals.clear(principal.tenant_id)
    return ok(
        {
            "message": f"Terminal cache cleared for tenant {principal.tenant_id}",
            "cache_type": CACHE_TYPE,
            "tenant_id": principal.tenant_id,
            "items_cleared": cleared,
        },
        message="Terminal cache cleared",
        operation="clear_cache",
    )
