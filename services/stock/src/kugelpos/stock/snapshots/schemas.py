"""API models of snapshots (camelCase; `id` added to v1's fields)."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from kugelpos.common.money import Money
from kugelpos.common.schemas import ApiModel


class CreateSnapshotRequest(ApiModel):
    created_by: str = Field(default="system", min_length=1, max_length=128)


class StockSnapshotItemResponse(ApiModel):
    item_code: str
    quantity: Money
    minimum_quantity: Money
    reorder_point: Money
    reorder_quantity: Money
    # Beyond v1: the item's moving-average cost the snapshot recorded (what its valuation
    # uses); null in a snapshot taken before costs were recorded.
    average_cost: Money | None = None


class StockSnapshotResponse(ApiModel):
    id: str
    tenant_id: str
    store_code: str
    total_items: int
    total_quantity: Money
    stocks: list[StockSnapshotItemResponse]
    created_by: str
    created_at: datetime
    updated_at: datetime | None = None
    generate_date_time: str | None = None
