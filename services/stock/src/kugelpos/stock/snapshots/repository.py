"""Snapshots and their indexes; the retention TTL index is managed by the schedule (§B9)."""

from __future__ import annotations

import contextlib
from datetime import datetime
from typing import Any

from bson import ObjectId
from bson.errors import InvalidId
from pymongo import DESCENDING
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import OperationFailure

from kugelpos.common.db.indexes import index
from kugelpos.common.db.repository import Repository

from .documents import SnapshotDocument

TTL_INDEX = "created_at_ttl"
DAY_SECONDS = 86_400


class SnapshotRepository(Repository[SnapshotDocument]):
    collection_name = "stock_snapshots"
    document_type = SnapshotDocument
    indexes = (
        index("tenant_id", "store_code", "-generated_at"),
        index("-created_at"),
    )

    def load_with_id(self, raw: dict[str, Any] | None) -> tuple[str, SnapshotDocument] | None:
        if raw is None:
            return None
        snapshot_id = str(raw.pop("_id"))
        return snapshot_id, SnapshotDocument.model_validate(raw)

    async def insert(self, doc: SnapshotDocument) -> str:
        result = await self.collection.insert_one(doc.to_mongo())
        return str(result.inserted_id)

    async def by_id(
        self, tenant_id: str, store_code: str, snapshot_id: str
    ) -> tuple[str, SnapshotDocument] | None:
        try:
            oid = ObjectId(snapshot_id)
        except (InvalidId, TypeError):
            return None
        raw = await self.collection.find_one(
            {"_id": oid, "tenant_id": tenant_id, "store_code": store_code}
        )
        return self.load_with_id(raw)

    async def in_range(
        self,
        tenant_id: str,
        store_code: str,
        start: datetime | None,
        end: datetime | None,
        *,
        skip: int,
        limit: int,
    ) -> tuple[list[tuple[str, SnapshotDocument]], int]:
        bounds: dict[str, Any] = {"$ne": None}
        if start is not None:
            bounds["$gte"] = start
        if end is not None:
            bounds["$lte"] = end
        filter_ = {"tenant_id": tenant_id, "store_code": store_code, "generated_at": bounds}
        cursor = (
            self.collection.find(filter_)
            .sort([("generated_at", DESCENDING), ("_id", DESCENDING)])
            .skip(skip)
            .limit(limit)
        )
        rows = [found for raw in await cursor.to_list() if (found := self.load_with_id(raw))]
        return rows, await self.collection.count_documents(filter_)


async def ensure_retention(db: AsyncDatabase, retention_days: int) -> None:
    """The TTL index `created_at_ttl` with this retention; recreated when it changes."""
    collection = db[SnapshotRepository.collection_name]
    seconds = retention_days * DAY_SECONDS
    existing = {i["name"]: i async for i in await collection.list_indexes()}
    current = existing.get(TTL_INDEX)
    if current is not None:
        if current.get("expireAfterSeconds") == seconds:
            return
        with contextlib.suppress(OperationFailure):
            await collection.drop_index(TTL_INDEX)
    await collection.create_index("created_at", name=TTL_INDEX, expireAfterSeconds=seconds)
