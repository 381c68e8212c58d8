"""Physical counts: open, enter zones (several devices at once), read, post, cancel.

Sales keep flowing while a store counts. Each entered (item, zone) records the item's
quantity at that moment, read in the transaction that stores the zone; an item's reference
is the quantity recorded with its latest zone. Its variance is

    variance = counted (the sum of its zones) - quantity at its latest zone

and the post applies the variance as a change (`count` history row) on top of whatever the
row holds then: quantity after the post = counted + the movements since the item was
counted. A sale between counting and posting is therefore neither counted twice nor lost.
(Of a sale between two zones of one item the count cannot tell the shelf: it is taken from
a zone not counted yet, i.e. the latest zone's quantity is the reference.)

An entry and the post both update the count document (its revision), so they conflict and
serialize: no line lands in a count after it was posted, and the post's transaction applies
every variance, writes their history rows and closes the count, or none of it."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from decimal import Decimal

from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from kugelpos.common.db.mongo import Mongo
from kugelpos.common.pagination import Page, PageParams

from ..errors import (
    CountAlreadyOpenError,
    CountClosedError,
    CountItemNotCoveredError,
    CountNotFoundError,
)
from ..items import ItemMaster
from ..quantities import from_units, to_units
from ..stocks.documents import StockDocument, UpdateType
from ..stocks.repository import StockRepository
from ..stocks.service import StockChange, apply_changes
from .documents import (
    CountDocument,
    CountLineDocument,
    CountStatus,
    PostedLineDocument,
)
from .repository import CountLineRepository, CountRepository


@dataclass(frozen=True, slots=True)
class EnteredLine:
    item_code: str
    zone: str
    counted_quantity: Decimal


@dataclass(frozen=True, slots=True)
class ZoneFigure:
    zone: str
    counted_units: int
    quantity_at_units: int


@dataclass(frozen=True, slots=True)
class ItemFigure:
    """An item of a count: what the GET shows (live while open, frozen once posted)."""

    item_code: str
    expected_units: int | None  # quantity at its latest zone (None: not counted yet)
    counted_units: int | None
    variance_units: int | None
    average_cost_units: int
    current_units: int
    zones: list[ZoneFigure]


@dataclass(frozen=True, slots=True)
class CountEntry:
    """What an entry of lines stored: the count as the entry left it and its own lines
    (not the whole count: an entry's cost does not grow with the lines entered before)."""

    count: CountDocument
    lines: list[CountLineDocument]


@dataclass(frozen=True, slots=True)
class CountView:
    count: CountDocument
    items: list[ItemFigure]


def variances(lines: list[CountLineDocument]) -> dict[str, tuple[int, int, list[ZoneFigure]]]:
    """item -> (expected, counted, zones): the sum of its zones against the quantity recorded
    with its latest zone (the highest revision)."""
    by_item: dict[str, list[CountLineDocument]] = {}
    for line in lines:
        by_item.setdefault(line.item_code, []).append(line)
    out: dict[str, tuple[int, int, list[ZoneFigure]]] = {}
    for item, zones in by_item.items():
        latest = max(zones, key=lambda z: z.revision)
        counted = sum(z.counted_units for z in zones)
        figures = [
            ZoneFigure(z.zone, z.counted_units, z.quantity_at_units)
            for z in sorted(zones, key=lambda z: z.zone)
        ]
        out[item] = (latest.quantity_at_units, counted, figures)
    return out


class CountService:
    def __init__(
        self,
        mongo: Mongo,
        ensure_tenant: Callable[[str], Awaitable[AsyncDatabase]],
        items: ItemMaster,
    ) -> None:
        self._mongo = mongo
        self._items = items
        self._ensure_tenant = ensure_tenant

    async def open(
        self,
        tenant_id: str,
        store_code: str,
        item_codes: list[str] | None,
        *,
        category_codes: list[str] | None = None,
        operator_id: str | None,
        actor: str | None,
    ) -> CountDocument:
        """The whole store (neither), named items (all in the item master) or the active
        items of categories (their codes, read from master-data now: an item added to a
        category later is not in this count)."""
        if category_codes is not None:
            item_codes = await self._items.of_categories(tenant_id, category_codes)
        elif item_codes is not None:
            await self._items.require(tenant_id, item_codes)
        db = await self._ensure_tenant(tenant_id)
        count = CountDocument(
            tenant_id=tenant_id,
            store_code=store_code,
            count_id=uuid.uuid4().hex,
            item_codes=sorted(set(item_codes)) if item_codes is not None else None,
            open_key=f"open:{store_code}",
            operator_id=operator_id,
            shard_key=tenant_id,
        )
        try:
            await CountRepository(db, actor=actor).insert(count, session=None)
        except DuplicateKeyError as exc:
            raise CountAlreadyOpenError(
                f"Store {store_code} already has an open count: post or cancel it first"
            ) from exc
        return count

    async def _count(self, tenant_id: str, store_code: str, count_id: str) -> CountDocument:
        found = await CountRepository(self._mongo.tenant_db(tenant_id)).by_id(
            tenant_id, store_code, count_id
        )
        if found is None:
            raise CountNotFoundError(f"Count {count_id} not found in store {store_code}")
        return found

    def _closed(self, count: CountDocument) -> CountClosedError:
        return CountClosedError(f"Count {count.count_id} is {count.status.value}")

    async def enter(
        self,
        tenant_id: str,
        store_code: str,
        count_id: str,
        lines: list[EnteredLine],
        *,
        actor: str | None,
    ) -> CountEntry:
        count = await self._count(tenant_id, store_code, count_id)
        if count.status is not CountStatus.OPEN:
            raise self._closed(count)
        if count.item_codes is not None:
            # Its items were checked against the item master when it opened.
            covered = set(count.item_codes)
            outside = sorted({x.item_code for x in lines} - covered)
            if outside:
                raise CountItemNotCoveredError(
                    f"Items not in count {count_id}: {', '.join(outside[:10])}"
                )
        else:
            await self._items.require(tenant_id, (x.item_code for x in lines))
        # One line per (item, zone) of the request: the last one wins, as re-entering would.
        latest = {(x.item_code, x.zone): x for x in lines}
        db = self._mongo.tenant_db(tenant_id)

        async def work(session: AsyncClientSession) -> CountEntry:
            touched = await CountRepository(db, actor=actor).touch_open(
                tenant_id, store_code, count_id, session=session
            )
            if touched is None:  # posted or cancelled since we looked
                raise self._closed(await self._count(tenant_id, store_code, count_id))
            items = sorted({item for item, _ in latest})
            rows = await _rows(db, tenant_id, store_code, items, session=session)
            entered = [
                CountLineDocument(
                    tenant_id=tenant_id,
                    count_id=count_id,
                    item_code=item,
                    zone=zone,
                    counted_units=to_units(x.counted_quantity),
                    quantity_at_units=rows[item].current_units if item in rows else 0,
                    revision=touched.revision,
                    shard_key=tenant_id,
                    created_by=actor,
                )
                for (item, zone), x in latest.items()
            ]
            await CountLineRepository(db, actor=actor).put_many(entered, session=session)
            return CountEntry(touched, entered)

        return await self._mongo.in_transaction(work)

    async def list(
        self, tenant_id: str, store_code: str, status: CountStatus | None, params: PageParams
    ) -> Page[CountDocument]:
        return await CountRepository(self._mongo.tenant_db(tenant_id)).page(
            tenant_id, store_code, status, params
        )

    async def view(self, tenant_id: str, store_code: str, count_id: str) -> CountView:
        count = await self._count(tenant_id, store_code, count_id)
        db = self._mongo.tenant_db(tenant_id)
        lines = await CountLineRepository(db).of_count(tenant_id, count_id)
        figures = variances(lines)
        items = sorted(set(figures) | set(count.item_codes or ()))
        rows = await _rows(db, tenant_id, store_code, items)
        posted = {p.item_code: p for p in count.posted_lines}
        out: list[ItemFigure] = []
        for item in items:
            row = rows.get(item)
            current = row.current_units if row else 0
            average = row.average_cost_units if row else 0
            zones = figures[item][2] if item in figures else []
            if item in posted:  # frozen as posted
                p = posted[item]
                out.append(
                    ItemFigure(
                        item,
                        p.expected_units,
                        p.counted_units,
                        p.variance_units,
                        p.average_cost_units,
                        current,
                        zones,
                    )
                )
            elif item in figures:
                expected, counted, _ = figures[item]
                out.append(
                    ItemFigure(item, expected, counted, counted - expected, average, current, zones)
                )
            else:
                out.append(ItemFigure(item, None, None, None, average, current, []))
        return CountView(count, out)

    async def post(
        self, tenant_id: str, store_code: str, count_id: str, *, actor: str | None
    ) -> tuple[CountView, list[StockDocument]]:
        """Every variance as one `count` change per item, and the count closed, in one
        transaction. A count posted or cancelled already: 409, nothing applied."""
        count = await self._count(tenant_id, store_code, count_id)
        if count.status is not CountStatus.OPEN:
            raise self._closed(count)
        db = self._mongo.tenant_db(tenant_id)

        async def work(session: AsyncClientSession) -> list[StockDocument]:
            counts = CountRepository(db, actor=actor)
            touched = await counts.touch_open(tenant_id, store_code, count_id, session=session)
            if touched is None:
                raise self._closed(await self._count(tenant_id, store_code, count_id))
            lines = await CountLineRepository(db).of_count(tenant_id, count_id, session=session)
            figures = variances(lines)
            items = sorted(figures)
            changes = [
                StockChange(
                    store_code=store_code,
                    item_code=item,
                    quantity_change=from_units(counted - expected),
                    update_type=UpdateType.COUNT,
                    reference_id=count_id,
                    operator_id=touched.operator_id,
                    note="physical count",
                )
                for item in items
                for expected, counted, _ in (figures[item],)
                if counted != expected
            ]
            rows = await _rows(db, tenant_id, store_code, items, session=session)
            applied = await apply_changes(db, tenant_id, changes, session=session, actor=actor)
            moved = {a.history.item_code: a.history for a in applied}
            posted = []
            for item in items:
                expected, counted, _ = figures[item]
                history = moved.get(item)
                posted.append(
                    PostedLineDocument(
                        item_code=item,
                        expected_units=expected,
                        counted_units=counted,
                        variance_units=counted - expected,
                        average_cost_units=rows[item].average_cost_units if item in rows else 0,
                        before_units=history.before_units if history else None,
                        after_units=history.after_units if history else None,
                    ).model_dump()
                )
            await counts.close(touched, CountStatus.POSTED, posted, session=session)
            return [a.row for a in applied]

        rows = await self._mongo.in_transaction(work)
        return await self.view(tenant_id, store_code, count_id), rows

    async def cancel(
        self, tenant_id: str, store_code: str, count_id: str, *, actor: str | None
    ) -> CountView:
        count = await self._count(tenant_id, store_code, count_id)
        if count.status is not CountStatus.OPEN:
            raise self._closed(count)
        db = self._mongo.tenant_db(tenant_id)

        async def work(session: AsyncClientSession) -> None:
            counts = CountRepository(db, actor=actor)
            touched = await counts.touch_open(tenant_id, store_code, count_id, session=session)
            if touched is None:
                raise self._closed(await self._count(tenant_id, store_code, count_id))
            await counts.close(touched, CountStatus.CANCELLED, [], session=session)

        await self._mongo.in_transaction(work)
        return await self.view(tenant_id, store_code, count_id)


async def _rows(
    db: AsyncDatabase,
    tenant_id: str,
    store_code: str,
    items: list[str],
    *,
    session: AsyncClientSession | None = None,
) -> dict[str, StockDocument]:
    rows = await StockRepository(db).rows_of(tenant_id, store_code, items, session=session)
    return {row.item_code: row for row in rows}
