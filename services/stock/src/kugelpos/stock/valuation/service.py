"""A store's stock at cost: every item's quantity x moving-average cost (`costs`), now or as
a snapshot recorded it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from kugelpos.common.clock import utcnow
from kugelpos.common.db.mongo import Mongo

from ..costs import stock_value_units
from ..errors import SnapshotNotFoundError
from ..snapshots.repository import SnapshotRepository
from ..stocks.repository import StockRepository


@dataclass(frozen=True, slots=True)
class ItemValue:
    item_code: str
    quantity_units: int
    average_cost_units: int
    value_units: int  # cost units


@dataclass(frozen=True, slots=True)
class Valuation:
    as_of: datetime
    items: list[ItemValue]
    total_units: int  # cost units: the sum of the items' rounded values
    # False for a snapshot taken before snapshots recorded costs: its items are valued at 0.
    costs_recorded: bool = True


def item_value(item_code: str, quantity_units: int, average_cost_units: int) -> ItemValue:
    return ItemValue(
        item_code,
        quantity_units,
        average_cost_units,
        stock_value_units(quantity_units, average_cost_units),
    )


class ValuationService:
    def __init__(self, mongo: Mongo) -> None:
        self._mongo = mongo

    async def now(self, tenant_id: str, store_code: str) -> Valuation:
        as_of = utcnow()
        rows = await StockRepository(self._mongo.tenant_db(tenant_id)).store_rows(
            tenant_id, store_code
        )
        items = [item_value(r.item_code, r.current_units, r.average_cost_units) for r in rows]
        return Valuation(as_of, items, sum(i.value_units for i in items))

    async def of_snapshot(self, tenant_id: str, store_code: str, snapshot_id: str) -> Valuation:
        """The snapshot's quantities at the costs it recorded, as of its time. One read."""
        found = await SnapshotRepository(self._mongo.tenant_db(tenant_id)).by_id(
            tenant_id, store_code, snapshot_id
        )
        if found is None:
            raise SnapshotNotFoundError(f"Snapshot not found: {snapshot_id}")
        _, doc = found
        items = [
            item_value(s.item_code, s.quantity_units, s.average_cost_units or 0) for s in doc.stocks
        ]
        return Valuation(
            doc.generated_at or doc.created_at,
            items,
            sum(i.value_units for i in items),
            costs_recorded=all(s.average_cost_units is not None for s in doc.stocks),
        )
