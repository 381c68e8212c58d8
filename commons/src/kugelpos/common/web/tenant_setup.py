"""`POST /api/v1/tenants`, as every service that keeps per-tenant data serves it: called by the
terminal service when a tenant is created, token only (a service JWT, or an admin or manager
of that tenant: `get_tenant_setup_caller`), idempotent. Each service passes the dependency
that gives what sets a tenant up there (`setup_tenant(tenant_id)`): its own service, or, for a
service whose tenant data is what its event consumer writes, the consumer
(`web.app.get_event_consumer`).

No `from __future__ import annotations` here: FastAPI must see the route's `Depends(get_setup)`
as an object, not as a string naming a local variable it cannot resolve."""

from collections.abc import Awaitable, Callable
from typing import Annotated, Any, Protocol

from fastapi import APIRouter, Depends, Query, status
from pydantic import AliasChoices, Field

from ..auth.dependencies import TenantSetupCaller, ensure_tenant
from ..envelope import ApiResponse, ok
from ..schemas import ApiModel, TenantId


class TenantCreateRequest(ApiModel):
    tenant_id: TenantId = Field(validation_alias=AliasChoices("tenantId", "tenant_id"))


class TenantCreateResponse(ApiModel):
    tenant_id: str


class TenantSetup(Protocol):
    async def setup_tenant(self, tenant_id: str) -> None: ...


def tenant_setup_router(get_setup: Callable[..., Awaitable[Any]]) -> APIRouter:
    """The router; `get_setup` is a FastAPI dependency returning a `TenantSetup`."""
    router = APIRouter(prefix="/api/v1/tenants", tags=["tenant"])

    @router.post(
        "", status_code=status.HTTP_201_CREATED, response_model=ApiResponse[TenantCreateResponse]
    )
    async def create_tenant(
        body: TenantCreateRequest,
        principal: TenantSetupCaller,
        tenants: Annotated[TenantSetup, Depends(get_setup)],
        is_terminal_service: bool | None = Query(
            default=False, description="v1 compatibility: accepted and ignored"
        ),
    ) -> ApiResponse[TenantCreateResponse]:
        """A service token or an admin/manager of that tenant (no terminal); idempotent."""
        ensure_tenant(principal, body.tenant_id)
        await tenants.setup_tenant(body.tenant_id)
        return ok(
            TenantCreateResponse(tenant_id=body.tenant_id),
            code=201,
            message=f"Creating tenant has completed: {body.tenant_id}",
            operation="create_tenant",
        )

    return router
