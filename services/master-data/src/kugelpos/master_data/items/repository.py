"""Persistence of common items."""

from __future__ import annotations

from kugelpos.common.db.indexes import index
from kugelpos.common.db.repository import Repository

from .documents import ItemDocument


class ItemRepository(Repository[ItemDocument]):
    collection_name = "master_item_common"
    document_type = ItemDocument
    indexes = (
        index("tenant_id", "item_code", unique=True),
        index("tenant_id", "category_code"),
    )
    default_sort = (("item_code", 1),)

    async def active_by_codes(self, tenant_id: str, codes: list[str]) -> dict[str, ItemDocument]:
        cursor = self.collection.find(
            {"tenant_id": tenant_id, "item_code": {"$in": codes}, "is_deleted": False},
            {"_id": False},
        )
        return {d.item_code: d for raw in await cursor.to_list() if (d := self._load(raw))}

    async def active_in_categories(
        self, tenant_id: str, categories: list[str], limit: int
    ) -> list[ItemDocument]:
        """Up to `limit` active items of the categories, by item code (the category index)."""
        cursor = (
            self.collection.find(
                {"tenant_id": tenant_id, "category_code": {"$in": categories}, "is_deleted": False},
                {"_id": False},
            )
            .sort("item_code", 1)
            .limit(limit)
        )
        return [d for raw in await cursor.to_list() if (d := self._load(raw))]
