"""Persistence of promotions."""

from __future__ import annotations

from kugelpos.common.db.indexes import index
from kugelpos.common.db.repository import Repository

from .documents import PromotionDocument


class PromotionRepository(Repository[PromotionDocument]):
    collection_name = "master_promotion"
    document_type = PromotionDocument
    indexes = (
        index("tenant_id", "promotion_code", unique=True),
        index("tenant_id", "promotion_type", "is_active"),
        index("tenant_id", "is_active", "start_datetime", "end_datetime"),
    )
    default_sort = (("promotion_code", 1),)
