"""Pre-aggregated figures, maintained in the transaction that stores each log.

A log's contribution (`figures.contribute`) is `$inc`ed into documents of three layouts, cut by
counter family (`figures.family`), so that a report reads a few small documents whatever the
size and the variety of the day: MongoDB's pre-aggregation pattern (an `$inc` upsert on a
document found by a unique key is one indexed, atomic update; a report is one indexed range
read), not a pipeline over the raw logs at each report. A report costs about the number of
counters it reads, on any MongoDB: each one travels, is decoded by the driver and summed here
in Python; and one hour of a big day holds thousands of item counters.

- `agg_hour`: one per (store, terminal, business date, open counter, hour): the hour's `core`
  counters (sales, discount, tax, payment and cash figures: a few dozen). The hourly report
  reads these, at most 24 per session and day.
- `agg_session`: one per (store, terminal, business date, open counter, family): the family's
  counters summed over the session's hours. Sales and payment read the `core` documents of
  the sessions selected; category, item and promotion their own family's.
- `agg_store`: the same per (store, business date, open counter, family), summed over the
  store's terminals, for the `item` family only: a store-wide item report reads one document
  per date and open counter instead of one per terminal, each holding most of the store's
  item list. The other families are a few dozen counters per session, not worth another write.

Each holds `c` (integer counters) and `names`. A log costs one `$inc` upsert per document it
touches: two for a cash or close log, five for a sale with items (six with a promotion), sent
as one command per collection. Item documents are not cut further (say into parts by item
code): each line of a basket would then write a part of its own. Their size is MongoDB's
limit to watch: a store's item document holds about 260 bytes per distinct item of the day,
so the 16 MB document limit is some 60,000 distinct items per store, date and open counter;
a store selling more than that in a day needs the item documents cut by item code. The
store's documents are written by every terminal's logs: concurrent transactions on one of
them conflict, and the driver runs the loser again (`Mongo.in_transaction`).

- `report_sessions`: one per (store, terminal, business date, open counter): what daily
  verification needs (§3.5): opened/closed, the counts and last numbers the close log announced,
  and the counts and last numbers received (cancelled sales included).
- `info_daily`: verification results, upserted on their natural key.

The live ingestion (`apply_log`), `rebuild` (`Aggregator`) and the property tests place a
contribution with the same `parts` of each layout, and a report reads what `plan` names, so the
report from the aggregates equals the one recomputed from the raw logs.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

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
from kugelpos.common.transactions import TillSession

from .figures import (
    CORE,
    FAMILIES,
    ITEM,
    TOPIC_CASH,
    TOPIC_OPENCLOSE,
    TOPIC_TRAN,
    Contribution,
    Figures,
    Selection,
    contribute,
)

_SESSION = ("tenant_id", "store_code", "business_date", "terminal_no", "open_counter")
_BUCKET = (*_SESSION, "hour")
_SESSION_FAMILY = (*_SESSION, "family")
_STORE_FAMILY = ("tenant_id", "store_code", "business_date", "open_counter", "family")

# Where a contribution goes in one layout: the key of a document (its key fields after the
# tenant, in order) → what the contribution adds to it.
type Slot = tuple[Any, ...]


class _Loose(Document):
    model_config = ConfigDict(extra="allow", populate_by_name=True)


class FigureRepository(Repository[_Loose]):
    """Documents of summed counters (`c`) and names; a subclass is one layout."""

    document_type = _Loose
    key_fields: ClassVar[tuple[str, ...]]

    @classmethod
    def parts(cls, c: Contribution) -> dict[Slot, Contribution]:
        """Which of this layout's documents a contribution adds to, and what."""
        raise NotImplementedError

    @classmethod
    def key(cls, tenant_id: str, slot: Slot) -> dict[str, Any]:
        return dict(zip(cls.key_fields, (tenant_id, *slot), strict=True))

    @staticmethod
    def update(c: Contribution) -> dict[str, Any]:
        now = utcnow()
        update: dict[str, Any] = {
            "$set": {"updated_at": now},
            "$setOnInsert": {"created_at": now},
        }
        if c.counters:
            # Plain integers, not `Int64`: the driver writes each as int32 or int64 by its size,
            # and MongoDB's `$inc` widens an int32 sum that overflows to int64, so sums stay
            # exact without wrapping every value.
            update["$inc"] = {f"c.{k}": v for k, v in c.counters.items()}
        for key, name in c.names.items():
            # a code keeps one name in practice; the last one written wins
            update["$set"][f"names.{key}"] = name
        return update

    async def add(
        self, tenant_id: str, c: Contribution, *, session: AsyncClientSession | None = None
    ) -> None:
        parts = self.parts(c)
        if len(parts) == 1:
            ((slot, part),) = parts.items()
            await self.collection.update_one(
                self.key(tenant_id, slot), self.update(part), upsert=True, session=session
            )
        elif parts:  # one command for all of a log's documents in this collection
            ops = [
                UpdateOne(self.key(tenant_id, slot), self.update(part), upsert=True)
                for slot, part in parts.items()
            ]
            await self.collection.bulk_write(ops, ordered=False, session=session)

    @classmethod
    def query(
        cls, tenant_id: str, selection: Selection, families: frozenset[str]
    ) -> dict[str, Any]:
        """The filter of the documents of a selection holding these families."""
        query = selection_query(tenant_id, selection)
        if "family" in cls.key_fields:
            names = sorted(families)
            query["family"] = names[0] if len(names) == 1 else {"$in": names}
        return query

    @staticmethod
    def add_to(figures: Figures, doc: Mapping[str, Any]) -> None:
        """Sum one stored document into a report's figures (per hour too, if it is an hour's)."""
        hour = doc.get("hour")
        figures.add(doc.get("c") or {}, doc.get("names") or {}, None if hour is None else int(hour))


class HourlyAggregateRepository(FigureRepository):
    collection_name = "agg_hour"
    key_fields = _BUCKET
    indexes = (index(*_BUCKET, unique=True),)

    @classmethod
    def parts(cls, c: Contribution) -> dict[Slot, Contribution]:
        core = c.by_family().get(CORE)
        if core is None:
            return {}
        b = c.bucket
        return {(b.store_code, b.business_date, b.terminal_no, b.open_counter, b.hour): core}


class SessionAggregateRepository(FigureRepository):
    collection_name = "agg_session"
    key_fields = _SESSION_FAMILY
    indexes = (index(*_SESSION_FAMILY, unique=True),)

    @classmethod
    def parts(cls, c: Contribution) -> dict[Slot, Contribution]:
        b = c.bucket
        return {
            (b.store_code, b.business_date, b.terminal_no, b.open_counter, name): share
            for name, share in c.by_family().items()
        }


class StoreAggregateRepository(FigureRepository):
    collection_name = "agg_store"
    key_fields = _STORE_FAMILY
    indexes = (index(*_STORE_FAMILY, unique=True),)
    families = frozenset((ITEM,))

    @classmethod
    def parts(cls, c: Contribution) -> dict[Slot, Contribution]:
        b = c.bucket
        return {
            (b.store_code, b.business_date, b.open_counter, name): share
            for name, share in c.by_family().items()
            if name in cls.families
        }


# The layouts every contribution is written to.
LAYOUTS: tuple[type[FigureRepository], ...] = (
    HourlyAggregateRepository,
    SessionAggregateRepository,
    StoreAggregateRepository,
)

type Plan = list[tuple[type[FigureRepository], frozenset[str]]]


def plan(families: Iterable[str], per_hour: bool, selection: Selection) -> Plan:
    """The documents that give a report the families it needs (and `Figures.hours` if
    `per_hour`), each family read once: the core family from the hours when per hour (a
    session's hours sum to its core document), the store's documents for a store-wide
    selection where the family has them, the sessions' documents for the rest."""
    wanted = frozenset(families)
    reads: Plan = []
    if per_hour:
        reads.append((HourlyAggregateRepository, frozenset((CORE,))))
        wanted -= {CORE}
    if selection.terminal_no is None and wanted & StoreAggregateRepository.families:
        reads.append((StoreAggregateRepository, wanted & StoreAggregateRepository.families))
        wanted -= StoreAggregateRepository.families
    if wanted:
        reads.append((SessionAggregateRepository, wanted))
    return reads


def selection_query(tenant_id: str, selection: Selection) -> dict[str, Any]:
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
    return query


async def report_figures(
    db: AsyncDatabase,
    tenant_id: str,
    selection: Selection,
    *,
    families: Iterable[str] = FAMILIES,
    per_hour: bool = True,
) -> Figures:
    """The summed figures of a selection, from the documents `plan` names."""
    figures = Figures()
    for repo, wanted in plan(families, per_hour, selection):
        # Whole documents: the key fields and timestamps are a few bytes beside `c`, nothing
        # a projection would save.
        async for doc in db[repo.collection_name].find(repo.query(tenant_id, selection, wanted)):
            repo.add_to(figures, doc)
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

    async def record(self, session: TillSession, *, verified: bool, message: str) -> None:
        now, s = utcnow(), session
        await self.collection.update_one(
            session.query(),
            {
                "$set": {
                    "verified": verified,
                    "verified_message": message,
                    "verified_update_time": now.isoformat(),
                    "updated_at": now,
                    "shard_key": f"{s.tenant_id}_{s.store_code}_{s.terminal_no}_{s.business_date}",
                },
                "$setOnInsert": {"created_at": now, "etag": None},
            },
            upsert=True,
        )


AGGREGATE_REPOSITORIES = (*LAYOUTS, SessionRepository, DailyInfoRepository)

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
    c = contribute(topic, log, tz)
    for layout in LAYOUTS:
        await layout(db).add(tenant_id, c, session=session)
    await SessionRepository(db).add(topic, log, session=session)


type Sessions = dict[tuple, dict[str, Any]]


class Aggregator:
    """What logs contribute, merged per document of each layout and per session (pure, fed
    one log at a time)."""

    def __init__(self, tz: ZoneInfo) -> None:
        self._tz = tz
        self.documents: dict[type[FigureRepository], dict[Slot, Contribution]] = {
            layout: {} for layout in LAYOUTS
        }
        self.sessions: Sessions = {}
        self.logs = 0

    def add(self, topic: str, log: Mapping[str, Any]) -> None:
        self.logs += 1
        c = contribute(topic, log, self._tz)
        for layout, merged in self.documents.items():
            for slot, part in layout.parts(c).items():
                merged.setdefault(slot, Contribution(c.bucket)).merge(part)
        s = self.sessions.setdefault(tuple(SessionRepository.key(log).items()), {})
        _merge_session(s, SessionRepository.update(topic, log))


async def add_aggregates(db: AsyncDatabase, tenant_id: str, merged: Aggregator) -> None:
    """`$inc` merged contributions into the stored documents and sessions, in bulk."""
    for layout, documents in merged.documents.items():
        ops = [
            UpdateOne(layout.key(tenant_id, slot), layout.update(c), upsert=True)
            for slot, c in documents.items()
        ]
        await _bulk(db, layout.collection_name, ops)
    session_ops = [
        UpdateOne(dict(key), _as_update(s), upsert=True) for key, s in merged.sessions.items()
    ]
    await _bulk(db, SessionRepository.collection_name, session_ops)


async def _bulk(db: AsyncDatabase, collection: str, ops: list[UpdateOne]) -> None:
    for i in range(0, len(ops), 500):
        await db[collection].bulk_write(ops[i : i + 500], ordered=False)


async def rebuild(db: AsyncDatabase, tenant_id: str, tz: ZoneInfo) -> dict[str, int]:
    """Recompute the aggregates and `report_sessions` from the raw logs, in the current
    layout (the old layout's documents are deleted). Run it while the tenant's ingestion is
    paused (a log stored meanwhile may be counted twice or not at all)."""
    merged = Aggregator(tz)
    for topic, repo in RAW_BY_TOPIC.items():
        async for log in db[repo.collection_name].find({"tenant_id": tenant_id}, {"_id": False}):
            merged.add(topic, log)
    for repo in (*LAYOUTS, SessionRepository):
        await db[repo.collection_name].delete_many({"tenant_id": tenant_id})
    await add_aggregates(db, tenant_id, merged)
    return {
        "logs": merged.logs,
        "buckets": len(merged.documents[HourlyAggregateRepository]),
        "sessions": len(merged.sessions),
    }


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
