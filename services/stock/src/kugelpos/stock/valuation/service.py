"""A store's stock at cost, now: every item's quantity x moving-average cost (`costs`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from kugelpos.common.clock import utcnow
from kugelpos.common.db.mongo import Mongo

from ..costs import stock_value_units
from ..stocks.documents import StockDocument
from ..stocks.repository import StockRepository


@dataclass(frozen=True, slots=True)
class ItemValue:
    row: StockDocument
    value_units: int  # cost units


@dataclass(frozen=True, slots=True)
class Valuation:
    as_of: datetime
    items: list[ItemValue]
    total_units: int  # cost units: the sum of the items' rounded values


class ValuationService:
    def __init__(self, mongo: Mongo) -> None:
        self._mongo = mongo

    async def now(self, tenant_id: str, store_code: str) -> Valuation:
        as_of = utcnow()
        rows = await StockRepository(self._mongo.tenant_db(tenant_id)).store_rows(
            tenant_id, store_code
        )
        items = [
            ItemValue(row, stock_value_units(row.current_units, row.average_cost_units))
            for row in rows
        ]
        return Valuation(as_of, items, sum(i.value_units for i in items))
