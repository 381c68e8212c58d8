"""`POST /api/v1/tenants`: called by the terminal service when a tenant is created."""

from __future__ import annotations

from fastapi import APIRouter, Query, status

from kugelpos.common.auth.dependencies import TenantSetupCaller, ensure_tenant
from kugelpos.common.db.tenants import ensure_collections
from kugelpos.common.envelope import ApiResponse, ok

from ..dependencies import StockWiringDep
from ..schemas import TenantCreateRequest, TenantCreateResponse

router = APIRouter(prefix="/api/v1/tenants", tags=["tenant"])


@router.post(
    "", status_code=status.HTTP_201_CREATED, response_model=ApiResponse[TenantCreateResponse]
)
async def create_tenant(
    body: TenantCreateRequest,
    principal: TenantSetupCaller,
    wiring: StockWiringDep,
    is_terminal_service: bool | None = Query(
        default=False, description="v1 compatibility: accepted and ignored"
    ),
) -> ApiResponse[TenantCreateResponse]:
    """A service token or an admin/manager of that tenant (no terminal); idempotent."""
    ensure_tenant(principal, body.tenant_id)
    from kugelpos.common.events.inbox import InboxRepository

    from ..events import REPOSITORIES  # the consumer's repositories and the inbox

    await ensure_collections(
        wiring.infra.mongo.tenant_db(body.tenant_id), (InboxRepository, *REPOSITORIES)
    )
    return ok(
        TenantCreateResponse(tenant_id=body.tenant_id),
        code=201,
        message=f"Creating tenant has completed: {body.tenant_id}",
        operation="create_tenant",
    )
