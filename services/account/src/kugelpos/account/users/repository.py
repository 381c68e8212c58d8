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
    indexes = (
        index("tenant_id", unique=True),
        # The id in lower case: "Shop1" and "shop1" would name databases that differ only
        # in case, which MongoDB refuses. Sparse: claims from before the key have none.
        index("tenant_key", unique=True, sparse=True),
    )
