"""`POST /api/v1/tenants`: the commons tenant set-up route over the transaction service (the
transaction collections of `db_cart_<tenant>` and the shared outbox)."""

from __future__ import annotations

from kugelpos.common.web.tenant_setup import tenant_setup_router

from ..dependencies import get_transaction_service

router = tenant_setup_router(get_transaction_service)
