"""Stored snapshots: a store's stock at one instant (quantities in units, see `quantities`)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from kugelpos.common.db.documents import Document


class SnapshotItem(BaseModel):
    item_code: str
    quantity_units: int
    minimum_units: int = 0
    reorder_point_units: int = 0
    reorder_quantity_units: int = 0
    # The row's moving-average cost (cost units, `costs`) when the snapshot was taken; None in
    # a snapshot taken before costs were recorded (its valuation says `costsRecorded: false`).
    average_cost_units: int | None = None


class SnapshotDocument(Document):
    tenant_id: str
    store_code: str
    total_items: int
    total_units: int
    stocks: list[SnapshotItem] = Field(default_factory=list)
    # v1's ISO text in the app time zone, and the same instant as a date for range queries.
    generate_date_time: str | None = None
    generated_at: datetime | None = None
    shard_key: str | None = None
    etag: str | None = None
