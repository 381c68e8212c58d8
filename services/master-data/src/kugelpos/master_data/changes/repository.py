"""Persistence of the change log (`master_change_log`) and its counter (`master_change_counter`).

The counter is one document per tenant database, `$inc`ed inside the transaction of every
change: two changes at once conflict on it, and the later one runs again after the earlier one
committed, so sequence numbers become visible in order and a reader never sees seq N+1 while N
is still to come (what lets a till resume from the last seq it saw).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pymongo import ASCENDING, ReturnDocument
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase

from kugelpos.common.db.indexes import index
from kugelpos.common.db.repository import Repository
from kugelpos.common.jobs import JOB_RUN_INDEXES

from .documents import ChangeEntry, CompactionRun, LogKind

COUNTER_COLLECTION = "master_change_counter"
COMPACTION_RUNS = "master_change_log_compactions"
SEQ_ID = "seq"
TAXES_ID = "taxes"  # the tax table as last logged (taxes are configuration)


class ChangeLogRepository(Repository):  # type: ignore[type-arg]
    collection_name = "master_change_log"
    document_type = ChangeEntry  # type: ignore[assignment]
    indexes = (
        # The feed reads `seq > cursor` in order: an unchanged store costs one index probe.
        index("seq", unique=True),
        # prices-at: the entries of some items (of one store) up to an instant.
        index("kind", "key", "seq"),
    )

    def __init__(self, db: AsyncDatabase) -> None:
        super().__init__(db)
        self.counter: AsyncCollection = db[COUNTER_COLLECTION]

    async def next_seq(self, session: AsyncClientSession) -> int:
        raw = await self.counter.find_one_and_update(
            {"_id": SEQ_ID},
            {"$inc": {"seq": 1}},
            upsert=True,
            return_document=ReturnDocument.AFTER,
            session=session,
        )
        return int(raw["seq"])

    async def append(self, entry: ChangeEntry, session: AsyncClientSession) -> None:
        await self.collection.insert_one(entry.model_dump(mode="python"), session=session)

    async def high_water(self) -> int:
        """The last seq handed out (0: nothing logged yet)."""
        raw = await self.counter.find_one({"_id": SEQ_ID})
        return int(raw["seq"]) if raw else 0

    async def after(self, seq: int, limit: int) -> list[ChangeEntry]:
        cursor = (
            self.collection.find({"seq": {"$gt": seq}}, {"_id": False})
            .sort("seq", ASCENDING)
            .limit(limit)
        )
        return [ChangeEntry.model_validate(raw) for raw in await cursor.to_list()]

    async def histories(
        self, kind: LogKind, keys: list[str], store_code: str | None = None
    ) -> dict[str, list[ChangeEntry]]:
        """Per key, all its entries in the order they happened (one query for all keys)."""
        filter_: dict[str, Any] = {"kind": kind.value, "key": {"$in": keys}}
        if store_code is not None:
            filter_["store_code"] = store_code
        cursor = self.collection.find(filter_, {"_id": False}).sort("seq", ASCENDING)
        found: dict[str, list[ChangeEntry]] = {}
        for raw in await cursor.to_list():
            found.setdefault(raw["key"], []).append(ChangeEntry.model_validate(raw))
        return found

    async def logged_taxes(self) -> list[dict[str, Any]] | None:
        raw = await self.counter.find_one({"_id": TAXES_ID})
        return None if raw is None else list(raw.get("entries", []))

    async def save_taxes(self, entries: list[dict[str, Any]], session: AsyncClientSession) -> None:
        await self.counter.update_one(
            {"_id": TAXES_ID}, {"$set": {"entries": entries}}, upsert=True, session=session
        )

    async def compact(self, before: datetime, batch: int = 1_000) -> int:
        """Delete the entries older than `before` that a later entry of the same record
        (kind, key, store) replaced; how many. Each record keeps its last entry before
        `before` and every entry since, so a delta from any cursor still ends at every
        record's state (only its intermediate states are gone, as a page already skips them)
        and a price in force at any instant since `before` is answered as before."""
        cursor = self.collection.find(
            {"at": {"$lt": before}},
            {"_id": False, "seq": True, "kind": True, "key": True, "store_code": True},
        ).sort("seq", ASCENDING)
        last: dict[tuple[str, str, str | None], int] = {}
        replaced: list[int] = []
        async for raw in cursor:
            record = (raw["kind"], raw["key"], raw.get("store_code"))
            earlier = last.get(record)
            if earlier is not None:
                replaced.append(earlier)
            last[record] = int(raw["seq"])
        deleted = 0
        for start in range(0, len(replaced), batch):
            result = await self.collection.delete_many(
                {"seq": {"$in": replaced[start : start + batch]}}
            )
            deleted += result.deleted_count
        return deleted


class CompactionRunRepository(Repository[CompactionRun]):
    """The daily compaction's runs (commons.jobs: one replica runs a tenant's day)."""

    collection_name = COMPACTION_RUNS
    document_type = CompactionRun
    indexes = JOB_RUN_INDEXES
