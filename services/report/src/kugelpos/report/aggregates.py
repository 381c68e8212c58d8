"""Pre-aggregated figures, maintained in the transaction that stores each log.

- `agg_hourly`: one document per (store, terminal, business date, open counter, hour) holding
  `c` (integer counters, see `figures`) and `names`; each log `$inc`s its contribution.
- `report_sessions`: one per (store, terminal, business date, open counter): what daily
  verification needs (§3.5): opened/closed, the counts and last numbers the close log announced,
  and the counts and last numbers received (cancelled sales included).
- `info_daily`: verification results, upserted on their natural key.

A report reads the few `agg_hourly` documents its selection covers; `rebuild` recomputes a
tenant's aggregates from the raw logs with the same `contribute` function.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from zoneinfo import ZoneInfo

from bson import Int64
from pydantic import ConfigDict
from pymongo import UpdateOne
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase

from kugelpos.common.clock import utcnow
from kugelpos.common.db.documents import Document
from kugelpos.common.db.indexes import index
from kugelpos.common.db.repository import Repository
from kugelpos.common.events.raw_logs import (
    RawCashLogRepository,
    RawOpenCloseLogRepository,
    RawTranLogRepository,
)

from .figures import (
    TOPIC_CASH,
    TOPIC_OPENCLOSE,
    TOPIC_TRAN,
    Bucket,
    Contribution,
    Figures,
    Selection,
    contribute,
)

_BUCKET = ("tenant_id", "store_code", "business_date", "terminal_no", "open_counter", "hour")
_SESSION = ("tenant_id", "store_code", "business_date", "terminal_no", "open_counter")


class _Loose(Document):
    model_config = ConfigDict(extra="allow", populate_by_name=True)


class HourlyAggregateRepository(Repository[_Loose]):
    collection_name = "agg_hourly"
    document_type = _Loose
    indexes = (index(*_BUCKET, unique=True),)

    @staticmethod
    def key(tenant_id: str, bucket: Bucket) -> dict[str, Any]:
        return {
            "tenant_id": tenant_id,
            "store_code": bucket.store_code,
            "business_date": bucket.business_date,
            "terminal_no": bucket.terminal_no,
            "open_counter": bucket.open_counter,
            "hour": bucket.hour,
        }

    @staticmethod
    def update(c: Contribution) -> dict[str, Any]:
        now = utcnow()
        update: dict[str, Any] = {
            "$set": {"updated_at": now},
            "$setOnInsert": {"created_at": now},
        }
        if c.counters:
            # Int64 always: a sum must never overflow a 32-bit field type.
            update["$inc"] = {f"c.{k}": Int64(v) for k, v in c.counters.items()}
        for key, name in c.names.items():
            # a code keeps one name in practice; the last one written wins
            update["$set"][f"names.{key}"] = name
        return update

    async def add(
        self, tenant_id: str, c: Contribution, *, session: AsyncClientSession | None = None
    ) -> None:
        if not c.counters and not c.names:
            return
        await self.collection.update_one(
            self.key(tenant_id, c.bucket), self.update(c), upsert=True, session=session
        )

    async def figures(self, tenant_id: str, selection: Selection) -> Figures:
        query: dict[str, Any] = {
            "tenant_id": tenant_id,
            "store_code": selection.store_code,
            "business_date": (
                selection.date_from
                if selection.date_from == selection.date_to
                else {"$gte": selection.date_from, "$lte": selection.date_to}
            ),
        }
        if selection.terminal_no is not None:
            query["terminal_no"] = selection.terminal_no
        if selection.open_counter is not None:
            query["open_counter"] = selection.open_counter
        figures = Figures()
        # Whole documents: the key fields and timestamps are a few bytes beside `c`, and the
        # embedded MongoDB copies a projected sub-document of this size several times slower
        # than it returns the document as stored.
        cursor = self.collection.find(query)
        async for doc in cursor:
            figures.add(doc.get("c") or {}, doc.get("names") or {}, int(doc.get("hour") or 0))
        return figures


class SessionRepository(Repository[_Loose]):
    collection_name = "report_sessions"
    document_type = _Loose
    indexes = (index(*_SESSION, unique=True),)

    @staticmethod
    def update(topic: str, log: Mapping[str, Any]) -> dict[str, Any]:
        now = utcnow()
        update: dict[str, Any] = {"$set": {"updated_at": now}, "$setOnInsert": {"created_at": now}}
        if topic == TOPIC_TRAN:
            update["$inc"] = {"tran_count": 1}
            update["$max"] = {"tran_last_no": int(log.get("transaction_no") or 0)}
        elif topic == TOPIC_CASH:
            update["$inc"] = {"cash_count": 1}
            update["$max"] = {"cash_last_datetime": str(log.get("generate_date_time") or "")}
        elif log.get("operation") == "open":
            update["$set"]["opened"] = True
        else:
            update["$set"].update(
                closed=True,
                close={
                    name: log.get(name)
                    for name in (
                        "cart_transaction_count",
                        "cart_transaction_last_no",
                        "cash_in_out_count",
                        "cash_in_out_last_datetime",
                        "generate_date_time",
                    )
                },
            )
        return update

    @staticmethod
    def key(log: Mapping[str, Any]) -> dict[str, Any]:
        return {
            "tenant_id": log["tenant_id"],
            "store_code": log["store_code"],
            "business_date": log["business_date"],
            "terminal_no": int(log["terminal_no"]),
            "open_counter": int(log.get("open_counter") or 0),
        }

    async def add(
        self, topic: str, log: Mapping[str, Any], *, session: AsyncClientSession | None = None
    ) -> None:
        await self.collection.update_one(
            self.key(log), self.update(topic, log), upsert=True, session=session
        )


class DailyInfoRepository(Repository[_Loose]):
    collection_name = "info_daily"
    document_type = _Loose
    indexes = (index(*_SESSION, unique=True),)

    async def record(
        self,
        *,
        tenant_id: str,
        store_code: str,
        terminal_no: int,
        business_date: str,
        open_counter: int,
        verified: bool,
        message: str,
    ) -> None:
        now = utcnow()
        await self.collection.update_one(
            {
                "tenant_id": tenant_id,
                "store_code": store_code,
                "business_date": business_date,
                "terminal_no": terminal_no,
                "open_counter": open_counter,
            },
            {
                "$set": {
                    "verified": verified,
                    "verified_message": message,
                    "verified_update_time": now.isoformat(),
                    "updated_at": now,
                    "shard_key": f"{tenant_id}_{store_code}_{terminal_no}_{business_date}",
                },
                "$setOnInsert": {"created_at": now, "etag": None},
            },
            upsert=True,
        )


AGGREGATE_REPOSITORIES = (HourlyAggregateRepository, SessionRepository, DailyInfoRepository)

RAW_BY_TOPIC = {
    TOPIC_TRAN: RawTranLogRepository,
    TOPIC_CASH: RawCashLogRepository,
    TOPIC_OPENCLOSE: RawOpenCloseLogRepository,
}


async def apply_log(
    db: AsyncDatabase,
    tenant_id: str,
    topic: str,
    log: Mapping[str, Any],
    tz: ZoneInfo,
    *,
    session: AsyncClientSession | None,
) -> None:
    """The aggregate side of storing one log (the raw log is stored by the caller)."""
    await HourlyAggregateRepository(db).add(tenant_id, contribute(topic, log, tz), session=session)
    await SessionRepository(db).add(topic, log, session=session)


type Sessions = dict[tuple, dict[str, Any]]


class Aggregator:
    """What logs contribute, merged per bucket and per session (pure, fed one log at a time)."""

    def __init__(self, tz: ZoneInfo) -> None:
        self._tz = tz
        self.hourly: dict[Bucket, Contribution] = {}
        self.sessions: Sessions = {}
        self.logs = 0

    def add(self, topic: str, log: Mapping[str, Any]) -> None:
        self.logs += 1
        c = contribute(topic, log, self._tz)
        merged = self.hourly.setdefault(c.bucket, Contribution(c.bucket))
        for key, value in c.counters.items():
            merged.add(key, value)
        for key, name in c.names.items():
            merged.names.setdefault(key, name)
        s = self.sessions.setdefault(tuple(SessionRepository.key(log).items()), {})
        _merge_session(s, SessionRepository.update(topic, log))


async def add_aggregates(db: AsyncDatabase, tenant_id: str, merged: Aggregator) -> None:
    """`$inc` merged contributions into the stored buckets and sessions, in bulk."""
    hourly, sessions = merged.hourly, merged.sessions
    agg = db[HourlyAggregateRepository.collection_name]
    ses = db[SessionRepository.collection_name]
    ops = [
        UpdateOne(
            HourlyAggregateRepository.key(tenant_id, b),
            HourlyAggregateRepository.update(c),
            upsert=True,
        )
        for b, c in hourly.items()
    ]
    for i in range(0, len(ops), 500):
        await agg.bulk_write(ops[i : i + 500], ordered=False)
    session_ops = [UpdateOne(dict(key), _as_update(s), upsert=True) for key, s in sessions.items()]
    for i in range(0, len(session_ops), 500):
        await ses.bulk_write(session_ops[i : i + 500], ordered=False)


async def rebuild(db: AsyncDatabase, tenant_id: str, tz: ZoneInfo) -> dict[str, int]:
    """Recompute `agg_hourly` and `report_sessions` from the raw logs. Run it while the
    tenant's ingestion is paused (a log stored meanwhile may be counted twice or not at all)."""
    merged = Aggregator(tz)
    for topic, repo in RAW_BY_TOPIC.items():
        async for log in db[repo.collection_name].find({"tenant_id": tenant_id}, {"_id": False}):
            merged.add(topic, log)
    await db[HourlyAggregateRepository.collection_name].delete_many({"tenant_id": tenant_id})
    await db[SessionRepository.collection_name].delete_many({"tenant_id": tenant_id})
    await add_aggregates(db, tenant_id, merged)
    return {"logs": merged.logs, "buckets": len(merged.hourly), "sessions": len(merged.sessions)}


def _merge_session(state: dict[str, Any], update: dict[str, Any]) -> None:
    for key, value in update.get("$inc", {}).items():
        state.setdefault("$inc", {})[key] = state.get("$inc", {}).get(key, 0) + value
    for key, value in update.get("$max", {}).items():
        current = state.setdefault("$max", {}).get(key)
        state["$max"][key] = value if current is None else max(current, value)
    for key, value in update.get("$set", {}).items():
        state.setdefault("$set", {})[key] = value
    state.setdefault("$setOnInsert", update.get("$setOnInsert", {}))


def _as_update(state: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in state.items() if v}
