"""Persistence of users and tenant claims, with their indexes."""

from __future__ import annotations

from kugelpos.common.db.indexes import index
from kugelpos.common.db.repository import Repository

from .documents import TenantClaim, UserDocument


class UserRepository(Repository[UserDocument]):
    collection_name = "user_accounts"
    document_type = UserDocument
    indexes = (index("tenant_id", "username", unique=True), index("tenant_id", "-created_at"))


class TenantClaimRepository(Repository[TenantClaim]):
    collection_name = "tenants"
    document_type = TenantClaim
    indexes = (index("tenant_id", unique=True),)
