"""Stored documents of offline selling in `db_cart_<tenant>`: reserved blocks, rejected
sales (for the manager) and price discrepancies (the reconciliation list)."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from kugelpos.common.db.documents import Document


class OfflineBlockDocument(Document):
    """`info_offline_block`: numbers reserved for one terminal's offline sales."""

    tenant_id: str
    store_code: str
    terminal_no: int
    terminal_id: str
    block_id: str
    transaction_no_from: int
    transaction_no_to: int
    receipt_no_from: int
    receipt_no_to: int
    # Receipt numbers burnt so the block did not wrap around the receipt range.
    receipts_skipped: int = 0
    by: str | None = None

    def holds(self, transaction_no: int, receipt_no: int) -> bool:
        return (
            self.transaction_no_from <= transaction_no <= self.transaction_no_to
            and self.receipt_no_from <= receipt_no <= self.receipt_no_to
        )


class OfflineRejectionDocument(Document):
    """`log_offline_rejection`: an offline sale refused, as last sent (kept for the manager
    until a corrected resend of the same offlineId is accepted)."""

    tenant_id: str
    store_code: str
    terminal_no: int
    terminal_id: str
    offline_id: str | None = None
    transaction_no: int | None = None
    receipt_no: int | None = None
    code: str
    message: str
    sale: dict[str, Any] = Field(default_factory=dict)
    attempts: int = 1  # how many times the till sent it and it was refused


class OfflineDiscrepancyDocument(Document):
    """`log_offline_discrepancy`: a line sold offline at another price than the master data's
    in force at the sale's time; written in the sale's own transaction (exactly once)."""

    tenant_id: str
    store_code: str
    terminal_no: int
    terminal_id: str
    transaction_no: int
    offline_id: str
    line_no: int
    item_code: str
    sold_price: float
    master_price: float | None = None
    at: str
