"""Movements by kind per day: a store's history rows over a range of local days, summed.

Days are the service's configured timezone's (as snapshots read bare dates), so a sale at
08:30 in Tokyo lands on that Tokyo day. Every history row counts under its own update type:
voids (`void`, `void_return`) are kinds of their own, never netted into `sale`/`return`.
Sums are of the stored integer units, converted once per bucket.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from kugelpos.common.days import day_start, days_between, local_day
from kugelpos.common.db.mongo import Mongo

from ..stocks.documents import UpdateType
from ..stocks.repository import StockUpdateRepository


@dataclass(slots=True)
class KindTotal:
    units: int = 0
    rows: int = 0


@dataclass(frozen=True, slots=True)
class DayMovements:
    day: date
    kinds: dict[UpdateType, KindTotal] = field(default_factory=dict)


class MovementService:
    def __init__(self, mongo: Mongo, *, timezone: str) -> None:
        self._mongo = mongo
        self._zone = ZoneInfo(timezone)

    async def by_day(
        self, tenant_id: str, store_code: str, first: date, last: date
    ) -> list[DayMovements]:
        """Every day from `first` to `last` (quiet days with no kinds), kinds in enum order."""
        start = day_start(first, self._zone)
        end = day_start(last + timedelta(days=1), self._zone)
        rows = await StockUpdateRepository(self._mongo.tenant_db(tenant_id)).movement_rows(
            tenant_id, store_code, start, end
        )
        days = {day: DayMovements(day) for day in days_between(first, last)}
        for row in rows:
            kinds = days[local_day(row["timestamp"], self._zone)].kinds
            total = kinds.setdefault(UpdateType(row["update_type"]), KindTotal())
            total.units += row["change_units"]
            total.rows += 1
        order = list(UpdateType)
        return [
            DayMovements(d.day, dict(sorted(d.kinds.items(), key=lambda k: order.index(k[0]))))
            for d in days.values()
        ]
