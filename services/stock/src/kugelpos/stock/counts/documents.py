"""Stored physical counts (`stock_counts`) and their entered lines (`stock_count_lines`)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, Field

from kugelpos.common.clock import utcnow
from kugelpos.common.db.documents import Document


class CountStatus(StrEnum):
    OPEN = "open"
    POSTED = "posted"
    CANCELLED = "cancelled"


class PostedLineDocument(BaseModel):
    """An item's figures as the post applied them (frozen: later sales do not move them)."""

    item_code: str
    expected_units: int
    counted_units: int
    variance_units: int
    average_cost_units: int
    before_units: int | None = None  # the row around the `count` history row (none: no change)
    after_units: int | None = None


class CountDocument(Document):
    tenant_id: str
    store_code: str
    count_id: str
    status: CountStatus = CountStatus.OPEN
    # None: the whole store; else the items the count covers.
    item_codes: list[str] | None = None
    # Unique per tenant database: `open:<store>` while open (one open count per store, so
    # two counts never correct one item twice), `closed:<count_id>` after.
    open_key: str
    # Bumped by every entry of lines and by the post/cancel: entries and the post conflict
    # on this document, so no line lands in a count after it was posted. The entry's value
    # orders an item's zones (the latest one's quantity is the item's reference).
    revision: int = 0
    operator_id: str | None = None
    opened_at: datetime = Field(default_factory=utcnow)
    closed_at: datetime | None = None
    posted_lines: list[PostedLineDocument] = Field(default_factory=list)
    shard_key: str | None = None


class CountLineDocument(Document):
    """One zone of one item: re-entering the zone replaces it."""

    tenant_id: str
    count_id: str
    item_code: str
    zone: str
    counted_units: int
    # The item's quantity when this zone was entered (read in the entering transaction).
    quantity_at_units: int
    revision: int
    entered_at: datetime = Field(default_factory=utcnow)
    shard_key: str | None = None
