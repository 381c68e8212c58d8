"""API model of a store's stock valuation (camelCase on the wire)."""

from __future__ import annotations

from datetime import datetime

from kugelpos.common.money import Money
from kugelpos.common.schemas import ApiModel


class ValuationItemResponse(ApiModel):
    item_code: str
    quantity: Money
    average_cost: Money
    value: Money  # quantity x average cost, rounded half-up to 4 decimals


class ValuationResponse(ApiModel):
    tenant_id: str
    store_code: str
    as_of: datetime  # now, or the snapshot's time
    snapshot_id: str | None = None  # the snapshot valued, when one was asked for
    # False only for a snapshot taken before snapshots recorded costs: items valued at 0.
    costs_recorded: bool = True
    items: list[ValuationItemResponse]
    total_value: Money  # the sum of the items' values
