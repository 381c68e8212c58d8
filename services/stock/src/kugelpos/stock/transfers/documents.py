"""Stored transfers between stores (`stock_transfers`)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, Field

from kugelpos.common.clock import utcnow
from kugelpos.common.db.documents import Document


class TransferStatus(StrEnum):
    SHIPPED = "shipped"
    PARTLY_RECEIVED = "partly_received"
    RECEIVED = "received"
    CANCELLED = "cancelled"


OPEN_STATUSES = (TransferStatus.SHIPPED, TransferStatus.PARTLY_RECEIVED)


class TransferLineDocument(BaseModel):
    item_code: str
    shipped_units: int
    received_units: int = 0
    # Shipped but never received, recorded when the transfer is closed as received.
    discrepancy_units: int = 0
    # The sending store's average cost when shipped: the receiving store takes the goods in
    # at it (its moving average moves as by a receipt).
    unit_cost_units: int = 0

    @property
    def in_transit_units(self) -> int:
        return self.shipped_units - self.received_units - self.discrepancy_units


class ReceivedUnitsDocument(BaseModel):
    item_code: str
    units: int


class TransferReceiptDocument(BaseModel):
    received_at: datetime
    # A list, not a map keyed by item: an item code may hold `.` or start with `$`.
    lines: list[ReceivedUnitsDocument]
    operator_id: str | None = None


class TransferDocument(Document):
    tenant_id: str
    transfer_id: str
    from_store: str
    to_store: str
    status: TransferStatus = TransferStatus.SHIPPED
    lines: list[TransferLineDocument]
    receipts: list[TransferReceiptDocument] = Field(default_factory=list)
    operator_id: str | None = None
    shipped_at: datetime = Field(default_factory=utcnow)
    closed_at: datetime | None = None
    # Bumped by every receipt and the cancel; they write only the revision they read.
    revision: int = 0
    shard_key: str | None = None
