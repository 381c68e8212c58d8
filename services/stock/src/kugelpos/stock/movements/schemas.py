"""API model of a store's movements by kind per day (camelCase on the wire)."""

from __future__ import annotations

from datetime import date

from kugelpos.common.money import Money
from kugelpos.common.schemas import ApiModel

from ..stocks.documents import UpdateType


class KindMovementResponse(ApiModel):
    kind: UpdateType
    quantity: Money  # the summed quantity change (negative for goods going out)
    rows: int  # history rows of this kind on this day


class DayMovementResponse(ApiModel):
    date: date
    kinds: list[KindMovementResponse]


class MovementsResponse(ApiModel):
    tenant_id: str
    store_code: str
    timezone: str
    from_date: date
    to_date: date
    days: list[DayMovementResponse]
