"""`POST /api/v1/tenants`: the commons tenant set-up route over this service's TenantService."""

from __future__ import annotations

from kugelpos.common.web.tenant_setup import tenant_setup_router

from ..dependencies import get_tenant_service

router = tenant_setup_router(get_tenant_service)
