"""Transfers: listed by store (sending or receiving) and state."""

from __future__ import annotations

from typing import Any

from pymongo import DESCENDING
from pymongo.asynchronous.client_session import AsyncClientSession

from kugelpos.common.db.indexes import index
from kugelpos.common.db.repository import Repository
from kugelpos.common.pagination import Page, PageParams

from .documents import TransferDocument, TransferStatus


class TransferRepository(Repository[TransferDocument]):
    collection_name = "stock_transfers"
    document_type = TransferDocument
    indexes = (
        index("tenant_id", "transfer_id", unique=True),
        index("tenant_id", "from_store", "status", "-shipped_at"),
        index("tenant_id", "to_store", "status", "-shipped_at"),
    )
    default_sort = (("shipped_at", DESCENDING),)

    async def insert(self, doc: TransferDocument, *, session: AsyncClientSession) -> None:
        doc.created_by = doc.created_by or self.actor
        await self.collection.insert_one(doc.to_mongo(), session=session)

    async def by_id(
        self, tenant_id: str, transfer_id: str, *, session: AsyncClientSession | None = None
    ) -> TransferDocument | None:
        raw = await self.collection.find_one(
            {"tenant_id": tenant_id, "transfer_id": transfer_id}, {"_id": False}, session=session
        )
        return self._load(raw)

    async def save(self, doc: TransferDocument, *, session: AsyncClientSession) -> bool:
        """Write `doc` over the revision it was read at (False: another writer came first)."""
        stored = doc.to_mongo()
        stored["revision"] = doc.revision + 1
        stored["updated_by"] = self.actor
        result = await self.collection.replace_one(
            {"tenant_id": doc.tenant_id, "transfer_id": doc.transfer_id, "revision": doc.revision},
            stored,
            session=session,
        )
        return result.matched_count == 1

    async def page(
        self,
        tenant_id: str,
        store_code: str | None,
        status: TransferStatus | None,
        params: PageParams,
    ) -> Page[TransferDocument]:
        query: dict[str, Any] = {"tenant_id": tenant_id}
        if store_code is not None:
            query["$or"] = [{"from_store": store_code}, {"to_store": store_code}]
        if status is not None:
            query["status"] = status.value
        sorted_params = PageParams(limit=params.limit, page=params.page, sort=[("shipped_at", -1)])
        return await self.list(query, sorted_params)
