"""`POST /api/v1/tenants`: called by the terminal service when a tenant is created."""

from __future__ import annotations

from fastapi import APIRouter, Query, status

from kugelpos.common.auth.dependencies import TokenPrincipal, ensure_tenant
from kugelpos.common.auth.principal import PrincipalKind
from kugelpos.common.envelope import ApiResponse, ok
from kugelpos.common.errors import PermissionDeniedError

from ..dependencies import TenantServiceDep
from .schemas import TenantCreateRequest, TenantCreateResponse

router = APIRouter(prefix="/api/v1/tenants", tags=["tenant"])


@router.post(
    "", status_code=status.HTTP_201_CREATED, response_model=ApiResponse[TenantCreateResponse]
)
async def create_tenant(
    body: TenantCreateRequest,
    principal: TokenPrincipal,
    tenants: TenantServiceDep,
    is_terminal_service: bool | None = Query(
        default=False, description="v1 compatibility: accepted and ignored"
    ),
) -> ApiResponse[TenantCreateResponse]:
    """Token only (user or service JWT of that tenant); idempotent."""
    if principal.kind is PrincipalKind.TERMINAL:
        raise PermissionDeniedError("A terminal cannot set up a tenant")
    ensure_tenant(principal, body.tenant_id)
    await tenants.setup(body.tenant_id)
    return ok(
        TenantCreateResponse(tenant_id=body.tenant_id),
        code=201,
        message=f"Creating tenant has completed: {body.tenant_id}",
        operation="create_tenant",
    )
