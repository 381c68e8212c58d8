"""Persistence of store prices."""

from __future__ import annotations

from kugelpos.common.db.indexes import index
from kugelpos.common.db.repository import Repository

from .documents import StoreItemDocument


class StoreItemRepository(Repository[StoreItemDocument]):
    collection_name = "master_item_store"
    document_type = StoreItemDocument
    indexes = (index("tenant_id", "store_code", "item_code", unique=True),)
    default_sort = (("item_code", 1),)

    async def by_codes(
        self, tenant_id: str, store_code: str, codes: list[str]
    ) -> dict[str, StoreItemDocument]:
        cursor = self.collection.find(
            {"tenant_id": tenant_id, "store_code": store_code, "item_code": {"$in": codes}},
            {"_id": False},
        )
        return {d.item_code: d for raw in await cursor.to_list() if (d := self._load(raw))}
