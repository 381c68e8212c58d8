"""Counts and their lines. The unique `open_key` keeps one open count per store; the unique
(count, item, zone) key makes re-entering a zone a replacement."""

from __future__ import annotations

from typing import Any

from pymongo import DESCENDING, ReturnDocument, UpdateOne
from pymongo.asynchronous.client_session import AsyncClientSession

from kugelpos.common.clock import utcnow
from kugelpos.common.db.indexes import index
from kugelpos.common.db.repository import Repository
from kugelpos.common.pagination import Page, PageParams

from .documents import CountDocument, CountLineDocument, CountStatus


class CountRepository(Repository[CountDocument]):
    collection_name = "stock_counts"
    document_type = CountDocument
    indexes = (
        index("tenant_id", "store_code", "count_id", unique=True),
        index("tenant_id", "open_key", unique=True),
        # The store's list, newest first (`page`).
        index("tenant_id", "store_code", "-opened_at"),
    )
    default_sort = (("opened_at", DESCENDING),)

    async def page(
        self, tenant_id: str, store_code: str, status: CountStatus | None, params: PageParams
    ) -> Page[CountDocument]:
        query: dict[str, Any] = {"tenant_id": tenant_id, "store_code": store_code}
        if status is not None:
            query["status"] = status.value
        sorted_params = PageParams(
            limit=params.limit, page=params.page, sort=[("opened_at", -1), ("count_id", -1)]
        )
        return await self.list(query, sorted_params)

    async def insert(self, doc: CountDocument, *, session: AsyncClientSession | None) -> None:
        doc.created_by = doc.created_by or self.actor
        await self.collection.insert_one(doc.to_mongo(), session=session)

    async def by_id(
        self,
        tenant_id: str,
        store_code: str,
        count_id: str,
        *,
        session: AsyncClientSession | None = None,
    ) -> CountDocument | None:
        raw = await self.collection.find_one(
            {"tenant_id": tenant_id, "store_code": store_code, "count_id": count_id},
            {"_id": False},
            session=session,
        )
        return self._load(raw)

    async def touch_open(
        self, tenant_id: str, store_code: str, count_id: str, *, session: AsyncClientSession
    ) -> CountDocument | None:
        """Bump the revision of an open count (None: not open, or not there)."""
        raw = await self.collection.find_one_and_update(
            {
                "tenant_id": tenant_id,
                "store_code": store_code,
                "count_id": count_id,
                "status": CountStatus.OPEN.value,
            },
            {"$inc": {"revision": 1}, "$set": {"updated_at": utcnow(), "updated_by": self.actor}},
            projection={"_id": False},
            return_document=ReturnDocument.AFTER,
            session=session,
        )
        return self._load(raw)

    async def close(
        self,
        doc: CountDocument,
        status: CountStatus,
        posted_lines: list[dict[str, Any]],
        *,
        session: AsyncClientSession,
    ) -> None:
        now = utcnow()
        await self.collection.update_one(
            {"tenant_id": doc.tenant_id, "store_code": doc.store_code, "count_id": doc.count_id},
            {
                "$set": {
                    "status": status.value,
                    "open_key": f"closed:{doc.count_id}",
                    "closed_at": now,
                    "posted_lines": posted_lines,
                    "updated_at": now,
                    "updated_by": self.actor,
                }
            },
            session=session,
        )


class CountLineRepository(Repository[CountLineDocument]):
    collection_name = "stock_count_lines"
    document_type = CountLineDocument
    indexes = (index("tenant_id", "count_id", "item_code", "zone", unique=True),)

    async def put_many(self, docs: list[CountLineDocument], *, session: AsyncClientSession) -> None:
        await self.collection.bulk_write(
            [
                UpdateOne(
                    {
                        "tenant_id": d.tenant_id,
                        "count_id": d.count_id,
                        "item_code": d.item_code,
                        "zone": d.zone,
                    },
                    {"$set": {**d.to_mongo(), "updated_by": self.actor}},
                    upsert=True,
                )
                for d in docs
            ],
            session=session,
        )

    async def of_count(
        self, tenant_id: str, count_id: str, *, session: AsyncClientSession | None = None
    ) -> list[CountLineDocument]:
        cursor = self.collection.find(
            {"tenant_id": tenant_id, "count_id": count_id}, {"_id": False}, session=session
        )
        return [doc for raw in await cursor.to_list() if (doc := self._load(raw))]
