"""Receipts: the unique (tenant, store, reference) index is what makes a reference apply once,
concurrent duplicates included (the second insert conflicts, then finds the key taken)."""

from __future__ import annotations

from pymongo import DESCENDING
from pymongo.asynchronous.client_session import AsyncClientSession

from kugelpos.common.db.indexes import index
from kugelpos.common.db.repository import Repository
from kugelpos.common.pagination import Page, PageParams

from .documents import ReceiptDocument


class ReceiptRepository(Repository[ReceiptDocument]):
    collection_name = "stock_receipts"
    document_type = ReceiptDocument
    indexes = (
        index("tenant_id", "store_code", "reference", unique=True),
        index("tenant_id", "store_code", "receipt_id", unique=True),
        index("tenant_id", "store_code", "-received_at"),
    )
    default_sort = (("received_at", DESCENDING),)

    async def insert(self, doc: ReceiptDocument, *, session: AsyncClientSession) -> None:
        doc.created_by = doc.created_by or self.actor
        await self.collection.insert_one(doc.to_mongo(), session=session)

    async def by_id(
        self, tenant_id: str, store_code: str, receipt_id: str
    ) -> ReceiptDocument | None:
        return await self.find_one(
            {"tenant_id": tenant_id, "store_code": store_code, "receipt_id": receipt_id}
        )

    async def page(
        self, tenant_id: str, store_code: str, params: PageParams
    ) -> Page[ReceiptDocument]:
        sorted_params = PageParams(limit=params.limit, page=params.page, sort=[("received_at", -1)])
        return await self.list({"tenant_id": tenant_id, "store_code": store_code}, sorted_params)
