"""`/api/v1/tenants`: create (with set-up fan-out), get, update, delete."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from kugelpos.common.auth.dependencies import CurrentPrincipal, ensure_tenant
from kugelpos.common.envelope import ApiResponse, ok

from ..access import BackOffice
from ..dependencies import TenantServiceDep
from .schemas import Tenant, TenantCreateRequest, TenantDeleteResponse, TenantUpdateRequest

router = APIRouter(prefix="/api/v1/tenants", tags=["tenants"])


@router.post("", status_code=status.HTTP_201_CREATED, response_model=ApiResponse[Tenant])
async def create_tenant(
    body: TenantCreateRequest, principal: BackOffice, tenants: TenantServiceDep
) -> ApiResponse[Tenant]:
    ensure_tenant(principal, body.tenant_id)
    tenant = await tenants.create(principal, body)
    return ok(
        Tenant.of(tenant),
        code=201,
        message=f"Tenant created successfully for tenant {tenant.tenant_id}",
        operation="create_tenant",
    )


@router.get("/{tenant_id}", response_model=ApiResponse[Tenant])
async def get_tenant(
    tenant_id: str,
    principal: CurrentPrincipal,
    tenants: TenantServiceDep,
    terminal_id: Annotated[str | None, Query(max_length=128)] = None,
) -> ApiResponse[Tenant]:
    ensure_tenant(principal, tenant_id)
    tenant = await tenants.get(tenant_id)
    return ok(
        Tenant.of(tenant), message=f"Tenant info for tenant {tenant_id}", operation="get_tenant"
    )


@router.put("/{tenant_id}", response_model=ApiResponse[Tenant])
async def update_tenant(
    tenant_id: str, body: TenantUpdateRequest, principal: BackOffice, tenants: TenantServiceDep
) -> ApiResponse[Tenant]:
    tenant = await tenants.update(principal, tenant_id, body)
    return ok(
        Tenant.of(tenant),
        message=f"Tenant updated successfully for tenant {tenant_id}",
        operation="update_tenant",
    )


@router.delete("/{tenant_id}", response_model=ApiResponse[TenantDeleteResponse])
async def delete_tenant(
    tenant_id: str, principal: BackOffice, tenants: TenantServiceDep
) -> ApiResponse[TenantDeleteResponse]:
    await tenants.delete(principal, tenant_id)
    return ok(
        TenantDeleteResponse(tenant_id=tenant_id),
        message=f"Tenant deleted successfully for tenant {tenant_id}",
        operation="delete_tenant",
    )
