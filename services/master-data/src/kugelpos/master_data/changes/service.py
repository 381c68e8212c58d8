"""The store's data feed (`/sync`) and prices at an instant (`/items/prices-at`), read from the
change log and the master collections."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
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
    tax_code: str | None
    source: str  # "log": both halves from the change log; "current": a half predates it
    # A gift card or store-credit item: what it sells loads a card (the offline intake
    # refuses such a sale: a card cannot be loaded offline).
    is_stored_value: bool = False


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
        """(prices in force at `at`, codes that were no active item then)."""
        codes = sorted(set(item_codes))
        found = await self.prices_at_times(tenant_id, store_code, [(c, at) for c in codes])
        prices = [p for p in found if p is not None]
        unknown = [c for c, p in zip(codes, found, strict=True) if p is None]
        return prices, unknown

    async def prices_at_times(
        self, tenant_id: str, store_code: str, lookups: list[tuple[str, datetime]]
    ) -> list[PriceAt | None]:
        """Per (item code, instant), the price in force then (None: no active item then), in
        the order asked. Each half of a price (the item's unit price, the store's price) is
        its last log entry at or before the instant; with none, a record whose first later
        entry created it did not exist then, and any other has not changed since the log
        began, so its current value is the one (`source` "current"). A fixed number of
        queries, whatever the number of lookups (the offline intake asks for a batch of
        sales, each at its own time, at once)."""
        codes = sorted({code for code, _ in lookups})
        log = self._log(tenant_id)
        item_log = await log.histories(LogKind.ITEM, codes)
        price_log = await log.histories(LogKind.STORE_ITEM, codes, store_code)
        current_items = await self._active_items(tenant_id, codes)
        current_prices = await self._store_prices(tenant_id, store_code, codes)
        found: list[PriceAt | None] = []
        for code, at in lookups:
            item, item_logged = _as_of(item_log.get(code, []), at, current_items.get(code))
            if item is None:
                found.append(None)
                continue
            store, price_logged = _as_of(price_log.get(code, []), at, current_prices.get(code))
            store_price = decimal(store.get("store_price")) if store else None
            found.append(
                PriceAt(
                    item_code=code,
                    price=effective_price(item.get("unit_price"), store_price),
                    unit_price=decimal(item.get("unit_price")) or Decimal(0),
                    store_price=store_price,
                    tax_code=item.get("tax_code"),
                    source="log" if item_logged and price_logged else "current",
                    is_stored_value=bool(item.get("is_stored_value")),
                )
            )
        return found


def _as_of(
    history: list[ChangeEntry], at: datetime, current: dict[str, Any] | None
) -> tuple[dict[str, Any] | None, bool]:
    """(the record as it stood at `at`, whether the log said so) from its entries in order:
    its last entry at or before `at`; with none, nothing if its first later entry created it,
    else its current value (it predates the log)."""
    before = [e for e in history if _aware(e.at) <= at]
    if before:
        last = before[-1]
        return (None if last.op is Op.DELETE else last.data), True
    later = history[0] if history else None
    if later is not None and later.created:
        return None, True
    return current, False


def _aware(moment: datetime) -> datetime:
    """Stored instants come back naive (UTC) from some drivers' settings."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
