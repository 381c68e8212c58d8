"""Stored receipts (`stock_receipts`): a delivery taken in, once per store and reference."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from kugelpos.common.clock import utcnow
from kugelpos.common.db.documents import Document


class ReceiptLineDocument(BaseModel):
    item_code: str
    quantity_units: int
    unit_cost_units: int
    before_units: int
    after_units: int
    average_cost_units: int  # the item's moving-average cost after this line


class ReceiptDocument(Document):
    tenant_id: str
    store_code: str
    receipt_id: str
    supplier: str
    reference: str
    operator_id: str | None = None
    received_at: datetime = Field(default_factory=utcnow)
    lines: list[ReceiptLineDocument] = Field(default_factory=list)
    shard_key: str | None = None
