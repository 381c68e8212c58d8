"""`POST /api/v1/tenants`: called by the terminal service when a tenant is created."""

from __future__ import annotations

from fastapi import APIRouter, Query, status

from kugelpos.common.auth.dependencies import TenantSetupCaller, ensure_tenant
from kugelpos.common.envelope import ApiResponse, ok

from ..dependencies import TenantServiceDep
from .schemas import TenantCreateRequest, TenantCreateResponse

router = APIRouter(prefix="/api/v1/tenants", tags=["tenant"])


@router.post(
    "", status_code=status.HTTP_201_CREATED, response_model=ApiResponse[TenantCreateResponse]
)
async def create_tenant(
    body: TenantCreateRequest,
    principal: TenantSetupCaller,
    tenants: TenantServiceDep,
    is_terminal_service: bool | None = Query(
        default=False, description="v1 compatibility: accepted and ignored"
    ),
) -> ApiResponse[TenantCreateResponse]:
    """A service token or an admin/manager of that tenant (no terminal); idempotent."""
    ensure_tenant(principal, body.tenant_id)
    await tenants.setup(body.tenant_id)
    return ok(
        TenantCreateResponse(tenant_id=body.tenant_id),
        code=201,
        message=f"Creating tenant has completed: {body.tenant_id}",
        operation="create_tenant",
    )
