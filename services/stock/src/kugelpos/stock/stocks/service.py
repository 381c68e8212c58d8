"""The one stock update (§B3) shared by the manual API and the sales consumer, and the reads.

An update is one MongoDB transaction: the atomic `$inc` upsert of the row and its history
row (and, for an event, the consumer's inbox record). `before` is derived from the atomic
result (`after - change`), so the history chain stays consistent under concurrency. Negative
stock and unknown items are accepted, never refused, and flagged in the history.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase

from kugelpos.common.db.mongo import Mongo
from kugelpos.common.pagination import Page, PageParams

from ..costs import moving_average
from ..errors import StockNotFoundError
from ..quantities import to_units
from .documents import StockDocument, StockUpdateDocument, UpdateFlag, UpdateType
from .repository import StockRepository, StockUpdateRepository

# Path segments of fixed routes: items with these codes cannot be addressed (v1 routing).
RESERVED_ITEM_CODES = frozenset(
    {
        "low",
        "reorder-alerts",
        "snapshot",
        "snapshots",
        "adjustments",
        "receipts",
        "valuation",
        "counts",
        "movements",
    }
)


@dataclass(frozen=True, slots=True)
class StockChange:
    """What to apply to one item."""

    store_code: str
    item_code: str
    quantity_change: Decimal
    update_type: UpdateType
    reference_id: str | None = None
    transaction_key: str | None = None
    event_id: str | None = None
    operator_id: str | None = None
    note: str | None = None
    # A receipt's unit cost (cost units): the change also moves the item's average cost.
    unit_cost_units: int | None = None


@dataclass(frozen=True, slots=True)
class Applied:
    row: StockDocument
    history: StockUpdateDocument


async def apply_change(
    db: AsyncDatabase,
    tenant_id: str,
    change: StockChange,
    *,
    session: AsyncClientSession,
    actor: str | None = None,
) -> Applied:
    """Apply one change inside the caller's transaction (row upsert + history row)."""
    (applied,) = await apply_changes(db, tenant_id, [change], session=session, actor=actor)
    return applied


async def apply_changes(
    db: AsyncDatabase,
    tenant_id: str,
    changes: list[StockChange],
    *,
    session: AsyncClientSession,
    actor: str | None = None,
) -> list[Applied]:
    """Apply changes in order inside the caller's transaction: the rows' atomic upserts (one
    command for all of a sale's lines; the same item twice chains its before/after), then
    every history row in one insert. No changes: nothing is written (a bulk write of nothing
    is refused by the driver). A change with a unit cost (a receipt line) moves the item's
    moving-average cost (`costs.moving_average`) from the quantity it found: the row is
    already locked by this transaction's `$inc`, so no other writer can come between."""
    if not changes:
        return []
    stocks = StockRepository(db, actor=actor)
    units = [to_units(change.quantity_change) for change in changes]
    keys = [(change.store_code, change.item_code) for change in changes]
    if len(changes) == 1:
        (change,) = changes
        rows = {
            keys[0]: await stocks.increment(
                tenant_id,
                change.store_code,
                change.item_code,
                units[0],
                change.reference_id,
                session=session,
            )
        }
    else:
        totals: dict[tuple[str, str], tuple[int, str | None]] = {}
        for key, n, change in zip(keys, units, changes, strict=True):
            # an item's last change names the row's last transaction, as one by one would
            totals[key] = (totals.get(key, (0, None))[0] + n, change.reference_id)
        rows = await stocks.increment_many(tenant_id, totals, session=session)
    # Each row as it stood before these changes, then walked forward one change at a time.
    running = {key: row.current_units for key, (row, _) in rows.items()}
    for key, n in zip(keys, units, strict=True):
        running[key] -= n
    averages = {key: row.average_cost_units for key, (row, _) in rows.items()}
    costed: set[tuple[str, str]] = set()
    applied: list[Applied] = []
    seen: set[tuple[str, str]] = set()
    for key, n, change in zip(keys, units, changes, strict=True):
        final, created = rows[key]
        before = running[key]
        after = running[key] = before + n
        flags: list[UpdateFlag] = []
        if created and key not in seen:  # the change that created the row
            flags.append(UpdateFlag.NEW_ITEM)
        seen.add(key)
        if after < 0:
            flags.append(UpdateFlag.NEGATIVE_STOCK)
        average = None
        if change.unit_cost_units is not None:
            average = averages[key] = moving_average(
                before, averages[key], n, change.unit_cost_units
            )
            costed.add(key)
        as_of: dict[str, int] = {}
        if after != final.current_units:
            as_of["current_units"] = after
        if averages[key] != final.average_cost_units:
            as_of["average_cost_units"] = averages[key]
        row = final.model_copy(update=as_of) if as_of else final
        history = StockUpdateDocument(
            tenant_id=tenant_id,
            store_code=change.store_code,
            item_code=change.item_code,
            update_type=change.update_type,
            change_units=n,
            before_units=before,
            after_units=after,
            reference_id=change.reference_id,
            transaction_key=change.transaction_key,
            event_id=change.event_id,
            timestamp=final.updated_at or final.created_at,
            operator_id=change.operator_id,
            note=change.note,
            flags=flags,
            unit_cost_units=change.unit_cost_units,
            average_cost_units=average,
            shard_key=tenant_id,
            created_by=actor,
        )
        applied.append(Applied(row, history))
    if costed:
        await stocks.set_average_costs(
            tenant_id, {key: averages[key] for key in costed}, session=session
        )
    await StockUpdateRepository(db, actor=actor).add_many(
        [a.history for a in applied], session=session
    )
    return applied


class StockService:
    def __init__(self, mongo: Mongo) -> None:
        self._mongo = mongo

    def _db(self, tenant_id: str) -> AsyncDatabase:
        return self._mongo.tenant_db(tenant_id)

    async def update(self, tenant_id: str, change: StockChange, *, actor: str | None) -> Applied:
        if change.item_code in RESERVED_ITEM_CODES:
            raise StockNotFoundError(f"Stock not found for item {change.item_code}")
        db = self._db(tenant_id)

        async def work(session: AsyncClientSession) -> Applied:
            return await apply_change(db, tenant_id, change, session=session, actor=actor)

        return await self._mongo.in_transaction(work)

    async def get(self, tenant_id: str, store_code: str, item_code: str) -> StockDocument:
        row = None
        if item_code not in RESERVED_ITEM_CODES:
            row = await StockRepository(self._db(tenant_id)).find_one(
                StockRepository.key(tenant_id, store_code, item_code)
            )
        if row is None:
            raise StockNotFoundError(f"Stock not found for item {item_code} in store {store_code}")
        return row

    async def list(
        self, tenant_id: str, store_code: str, params: PageParams
    ) -> Page[StockDocument]:
        return await StockRepository(self._db(tenant_id)).page(tenant_id, store_code, params)

    async def low(self, tenant_id: str, store_code: str) -> list[StockDocument]:
        """Below the minimum, or below zero (negative stock is always worth a look)."""
        rows = await StockRepository(self._db(tenant_id)).store_rows(tenant_id, store_code)
        return [row for row in rows if row.is_low or row.is_negative]

    async def reorder(self, tenant_id: str, store_code: str) -> list[StockDocument]:
        rows = await StockRepository(self._db(tenant_id)).store_rows(tenant_id, store_code)
        return [row for row in rows if row.needs_reorder]

    async def history(
        self, tenant_id: str, store_code: str, item_code: str, params: PageParams
    ) -> Page[StockUpdateDocument]:
        return await StockUpdateRepository(self._db(tenant_id)).page(
            tenant_id, store_code, item_code, params
        )

    async def set_thresholds(
        self,
        tenant_id: str,
        store_code: str,
        item_code: str,
        values: dict[str, Decimal],
        *,
        actor: str | None,
    ) -> StockDocument:
        if item_code in RESERVED_ITEM_CODES:
            raise StockNotFoundError(f"Stock not found for item {item_code}")
        units = {f"{name}_units": to_units(value) for name, value in values.items()}
        return await StockRepository(self._db(tenant_id), actor=actor).set_thresholds(
            tenant_id, store_code, item_code, units
        )
