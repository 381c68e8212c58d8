"""Persistence of categories."""

from __future__ import annotations

from kugelpos.common.db.indexes import index
from kugelpos.common.db.repository import Repository

from .documents import CategoryDocument


class CategoryRepository(Repository[CategoryDocument]):
    collection_name = "master_category"
    document_type = CategoryDocument
    indexes = (index("tenant_id", "category_code", unique=True),)
    default_sort = (("category_code", 1),)
