"""Persistence of item books, with the unique index on the collection really used."""

from __future__ import annotations

from kugelpos.common.db.indexes import index
from kugelpos.common.db.repository import Repository

from .documents import ItemBookDocument


class ItemBookRepository(Repository[ItemBookDocument]):
    collection_name = "master_key_preset"
    document_type = ItemBookDocument
    indexes = (index("tenant_id", "item_book_id", unique=True),)
    default_sort = (("item_book_id", 1),)

    async def last_id_with_prefix(self, tenant_id: str, prefix: str) -> str | None:
        raw = await self.collection.find_one(
            {"tenant_id": tenant_id, "item_book_id": {"$gte": prefix, "$lt": prefix + "~"}},
            {"_id": False, "item_book_id": True},
            sort=[("item_book_id", -1)],
        )
        return raw["item_book_id"] if raw else None
