"""Persistence of tenants (stores are embedded) and their indexes."""

from __future__ import annotations

from kugelpos.common.db.indexes import index
from kugelpos.common.db.repository import Repository

from .documents import TenantDocument


class TenantRepository(Repository[TenantDocument]):
    collection_name = "info_tenant"
    document_type = TenantDocument
    indexes = (index("tenant_id", unique=True),)
