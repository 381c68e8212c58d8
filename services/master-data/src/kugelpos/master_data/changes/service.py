"""The store's data feed (`/sync`) and prices at an instant (`/items/prices-at`), read from the
change log and the master collections."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from pymongo import ASCENDING
from pymongo.asynchronous.database import AsyncDatabase

from kugelpos.common.db.mongo import Mongo

from ..categories.repository import CategoryRepository
from ..config import MasterDataSettings
from ..items.repository import ItemRepository
from ..parameters.repository import ParameterRepository
from ..payments.repository import PaymentRepository
from ..promotions.repository import PromotionRepository
from ..return_reasons.repository import ReturnReasonRepository
from ..staff.repository import StaffRepository
from ..store_items.repository import StoreItemRepository
from .cursor import Cursor
from .documents import ChangeEntry, LogKind, Op
from .feed import FEED_KINDS, change, decimal, effective_price, feed_kind, item_change
from .log import ChangeLog
from .repository import ChangeLogRepository

type Raw = dict[str, Any]


@dataclass(frozen=True, slots=True)
class _Source:
    """Where a snapshot reads one kind: a collection, its natural key, what it leaves out."""

    collection: str
    key: str
    only: dict[str, Any]


SOURCES: dict[str, _Source] = {
    "category": _Source(CategoryRepository.collection_name, "category_code", {}),
    "payment": _Source(PaymentRepository.collection_name, "payment_code", {}),
    "setting": _Source(ParameterRepository.collection_name, "name", {}),
    "staff": _Source(StaffRepository.collection_name, "id", {}),
    "return_reason": _Source(ReturnReasonRepository.collection_name, "reason_code", {}),
    "promotion": _Source(
        PromotionRepository.collection_name, "promotion_code", {"is_deleted": False}
    ),
    "item": _Source(ItemRepository.collection_name, "item_code", {"is_deleted": False}),
}


@dataclass(frozen=True, slots=True)
class FeedPage:
    changes: list[Raw]
    cursor: Cursor
    has_more: bool


@dataclass(frozen=True, slots=True)
class PriceAt:
    item_code: str
    price: Decimal
    unit_price: Decimal
    store_price: Decimal | None
    source: str  # "log": both halves from the change log; "current": a half predates it


class SyncService:
    def __init__(self, mongo: Mongo, settings: MasterDataSettings, changes: ChangeLog) -> None:
        self._mongo = mongo
        self._settings = settings
        self._changes = changes

    def _db(self, tenant_id: str) -> AsyncDatabase:
        return self._mongo.tenant_db(tenant_id)

    def _log(self, tenant_id: str) -> ChangeLogRepository:
        return self._changes.repo(tenant_id)

    # ---- the feed ------------------------------------------------------------------------

    async def page(
        self, tenant_id: str, store_code: str, since: Cursor | None, limit: int
    ) -> FeedPage:
        await self._changes.ensure_tax_table(tenant_id)
        if since is None:
            mark = await self._log(tenant_id).high_water()
            return await self._snapshot(tenant_id, store_code, Cursor(mark, snapshot=True), limit)
        if since.snapshot:
            return await self._snapshot(tenant_id, store_code, since, limit)
        return await self._delta(tenant_id, store_code, since.seq, limit)

    async def _snapshot(self, tenant_id: str, store_code: str, at: Cursor, limit: int) -> FeedPage:
        """Every record as it is now, kind after kind by natural key. Whatever changes while
        the till pages has a seq above the mark, so the delta from the mark brings it."""
        changes: list[Raw] = []
        kind_index, after = at.kind_index, at.after
        while kind_index < len(FEED_KINDS) and len(changes) < limit:
            rows, last, exhausted = await self._read_kind(
                tenant_id, store_code, FEED_KINDS[kind_index], after, limit - len(changes)
            )
            changes.extend(rows)
            if exhausted:
                kind_index, after = kind_index + 1, None
            else:
                after = last
        if kind_index >= len(FEED_KINDS):
            return FeedPage(changes, Cursor(at.seq), has_more=False)
        position = Cursor(at.seq, snapshot=True, kind_index=kind_index, after=after)
        return FeedPage(changes, position, has_more=True)

    async def _read_kind(
        self, tenant_id: str, store_code: str, kind: str, after: str | None, limit: int
    ) -> tuple[list[Raw], str | None, bool]:
        """(changes, last key read, kind finished) for up to `limit` records after `after`."""
        if kind == "tax":
            entries = sorted(
                (t.model_dump(mode="json") for t in self._settings.taxes_for(tenant_id)),
                key=lambda t: t["tax_code"],
            )
            rows = [t for t in entries if after is None or t["tax_code"] > after][:limit]
            done = len(rows) < limit or rows[-1]["tax_code"] == entries[-1]["tax_code"]
            return (
                [change("tax", t["tax_code"], t, store_code) for t in rows],
                rows[-1]["tax_code"] if rows else after,
                done,
            )
        source = SOURCES[kind]
        filter_: dict[str, Any] = {"tenant_id": tenant_id, **source.only}
        if after is not None:
            filter_[source.key] = {"$gt": after}
        # One more than asked: whether the kind is finished is known without another read.
        cursor = (
            self._db(tenant_id)[source.collection]
            .find(filter_, {"_id": False})
            .sort(source.key, ASCENDING)
            .limit(limit + 1)
        )
        records = await cursor.to_list()
        exhausted = len(records) <= limit
        records = records[:limit]
        last = records[-1][source.key] if records else after
        if kind == "item":
            codes = [r["item_code"] for r in records]
            prices = await self._store_prices(tenant_id, store_code, codes)
            rows = [item_change(r["item_code"], r, prices.get(r["item_code"])) for r in records]
        else:
            rows = [change(kind, r[source.key], r, store_code) for r in records]
            # A promotion for other stores only is left out of this store's snapshot.
            rows = [r for r in rows if r["op"] == Op.UPSERT.value]
        return rows, last, exhausted

    async def _store_prices(
        self, tenant_id: str, store_code: str, codes: list[str]
    ) -> dict[str, Raw]:
        if not codes:
            return {}
        cursor = self._db(tenant_id)[StoreItemRepository.collection_name].find(
            {"tenant_id": tenant_id, "store_code": store_code, "item_code": {"$in": codes}},
            {"_id": False},
        )
        return {raw["item_code"]: raw for raw in await cursor.to_list()}

    async def _active_items(self, tenant_id: str, codes: list[str]) -> dict[str, Raw]:
        if not codes:
            return {}
        cursor = self._db(tenant_id)[ItemRepository.collection_name].find(
            {"tenant_id": tenant_id, "item_code": {"$in": codes}, "is_deleted": False},
            {"_id": False},
        )
        return {raw["item_code"]: raw for raw in await cursor.to_list()}

    async def _delta(self, tenant_id: str, store_code: str, seq: int, limit: int) -> FeedPage:
        """The entries after `seq`, in order, one read of the log (nothing after it: an empty
        answer). Another store's prices are skipped (the cursor still moves past them). A
        record changed twice in a page is sent once, at its last change. An item is sent as
        it is now (the common item with this store's price), which is where its last entry
        leaves it (an item's delete stays a delete: a later entry brings it back); everything
        else as its entry recorded it."""
        entries = await self._log(tenant_id).after(seq, limit + 1)
        has_more = len(entries) > limit
        entries = entries[:limit]
        cursor = Cursor(entries[-1].seq if entries else seq)
        last: dict[tuple[str, str], ChangeEntry] = {}
        for entry in entries:
            if entry.kind is LogKind.STORE_ITEM and entry.store_code != store_code:
                continue
            target = (feed_kind(entry.kind), entry.key)
            last.pop(target, None)  # re-inserted: dict order is the order of last changes
            last[target] = entry
        item_codes = [key for kind, key in last if kind == "item"]
        items = await self._active_items(tenant_id, item_codes)
        prices = await self._store_prices(tenant_id, store_code, list(items))
        changes = [
            change(kind, key, entry.data, store_code, entry.op)
            if kind != "item"
            else item_change(key, None, None)
            if entry.kind is LogKind.ITEM and entry.op is Op.DELETE
            else item_change(key, items.get(key), prices.get(key))
            for (kind, key), entry in last.items()
        ]
        return FeedPage(changes, cursor, has_more)

    # ---- prices at an instant -------------------------------------------------------------

    async def prices_at(
        self, tenant_id: str, store_code: str, item_codes: list[str], at: datetime
    ) -> tuple[list[PriceAt], list[str]]:
        """(prices in force at `at`, codes that were no active item then). Each half of a
        price (the item's unit price, the store's price) is its last log entry at or before
        `at`; with none, a record created after `at` did not exist then, and any other has
        not changed since the log began, so its current value is the one (`source`
        "current"). A fixed number of queries, whatever the number of codes."""
        codes = sorted(set(item_codes))
        log = self._log(tenant_id)
        item_log = await log.latest_until(LogKind.ITEM, codes, at)
        price_log = await log.latest_until(LogKind.STORE_ITEM, codes, at, store_code)
        no_item = [c for c in codes if c not in item_log]
        no_price = [c for c in codes if c not in price_log]
        item_later = await log.created_after(LogKind.ITEM, no_item, at) if no_item else set()
        price_later = (
            await log.created_after(LogKind.STORE_ITEM, no_price, at, store_code)
            if no_price
            else set()
        )
        current_items = await self._active_items(
            tenant_id, [c for c in no_item if c not in item_later]
        )
        current_prices = await self._store_prices(
            tenant_id, store_code, [c for c in no_price if c not in price_later]
        )
        found: list[PriceAt] = []
        unknown: list[str] = []
        for code in codes:
            from_log = True
            if code in item_log:
                entry = item_log[code]
                item = None if entry.op is Op.DELETE else entry.data
            elif code in item_later:
                item = None
            else:
                item, from_log = current_items.get(code), False
            if item is None:
                unknown.append(code)
                continue
            if code in price_log:
                entry = price_log[code]
                store = None if entry.op is Op.DELETE else entry.data
            elif code in price_later:
                store = None
            else:
                store, from_log = current_prices.get(code), False
            store_price = decimal(store.get("store_price")) if store else None
            found.append(
                PriceAt(
                    item_code=code,
                    price=effective_price(item.get("unit_price"), store_price),
                    unit_price=decimal(item.get("unit_price")) or Decimal(0),
                    store_price=store_price,
                    source="log" if from_log else "current",
                )
            )
        return found, unknown
