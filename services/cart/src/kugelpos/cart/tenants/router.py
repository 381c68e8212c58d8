"""`POST /api/v1/tenants`: set the tenant up here (idempotent; the terminal service fans out
to it when a tenant is created)."""

from __future__ import annotations

from fastapi import APIRouter, status

from kugelpos.common.auth.dependencies import TenantSetupCaller, ensure_tenant
from kugelpos.common.db.mongo import validate_tenant_id
from kugelpos.common.envelope import ApiResponse, ok

from ..dependencies import TransactionServiceDep
from .schemas import TenantCreateRequest, TenantCreateResponse

router = APIRouter(prefix="/api/v1/tenants", tags=["tenant"])


@router.post(
    "", status_code=status.HTTP_201_CREATED, response_model=ApiResponse[TenantCreateResponse]
)
async def create_tenant(
    body: TenantCreateRequest,
    principal: TenantSetupCaller,
    transactions: TransactionServiceDep,
    is_terminal_service: bool | None = False,
) -> ApiResponse[TenantCreateResponse]:
    ensure_tenant(principal, body.tenant_id)
    validate_tenant_id(body.tenant_id)
    await transactions.setup_tenant(body.tenant_id)
    return ok(
        TenantCreateResponse(tenant_id=body.tenant_id),
        code=201,
        message=f"Tenant {body.tenant_id} is set up",
        operation="create_tenant",
    )
