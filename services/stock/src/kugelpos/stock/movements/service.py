"""Movements by kind per day: a store's history rows over a range of local days, summed.

Days are the service's configured timezone's (as snapshots read bare dates), so a sale at
08:30 in Tokyo lands on that Tokyo day. Every history row counts under its own update type:
voids (`void`, `void_return`) are kinds of their own, never netted into `sale`/`return`.
Sums are of the stored integer units, converted once per bucket.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from kugelpos.common.db.mongo import Mongo
from kugelpos.common.errors import InvalidInputError

from ..stocks.documents import UpdateType
from ..stocks.repository import StockUpdateRepository

MAX_DAYS = 92


@dataclass(slots=True)
class KindTotal:
    units: int = 0
    rows: int = 0


@dataclass(frozen=True, slots=True)
class DayMovements:
    day: date
    kinds: dict[UpdateType, KindTotal] = field(default_factory=dict)


def parse_day(value: str, name: str) -> date:
    try:
        if len(value) != 10:
            raise ValueError(value)
        return date.fromisoformat(value)
    except ValueError as exc:
        raise InvalidInputError(f"Invalid {name} {value!r}: expected YYYY-MM-DD") from exc


def day_range(start: str, end: str) -> tuple[date, date]:
    first, last = parse_day(start, "from"), parse_day(end, "to")
    if first > last:
        raise InvalidInputError(f"from {first} is after to {last}")
    if (last - first).days + 1 > MAX_DAYS:
        raise InvalidInputError(f"at most {MAX_DAYS} days at a time, from {first} to {last}")
    return first, last


class MovementService:
    def __init__(self, mongo: Mongo, *, timezone: str) -> None:
        self._mongo = mongo
        self._zone = ZoneInfo(timezone)

    async def by_day(
        self, tenant_id: str, store_code: str, first: date, last: date
    ) -> list[DayMovements]:
        """Every day from `first` to `last` (quiet days with no kinds), kinds in enum order."""
        start = datetime.combine(first, time.min, self._zone).astimezone(UTC)
        end = datetime.combine(last + timedelta(days=1), time.min, self._zone).astimezone(UTC)
        rows = await StockUpdateRepository(self._mongo.tenant_db(tenant_id)).movement_rows(
            tenant_id, store_code, start, end
        )
        days = {
            first + timedelta(days=n): DayMovements(first + timedelta(days=n))
            for n in range((last - first).days + 1)
        }
        for row in rows:
            stamp: datetime = row["timestamp"]
            if stamp.tzinfo is None:  # a client without tz_aware reads UTC as naive
                stamp = stamp.replace(tzinfo=UTC)
            kinds = days[stamp.astimezone(self._zone).date()].kinds
            total = kinds.setdefault(UpdateType(row["update_type"]), KindTotal())
            total.units += row["change_units"]
            total.rows += 1
        order = list(UpdateType)
        return [
            DayMovements(d.day, dict(sorted(d.kinds.items(), key=lambda k: order.index(k[0]))))
            for d in days.values()
        ]
