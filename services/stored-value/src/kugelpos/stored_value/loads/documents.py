"""Pending loads (`card_loads`): money the cart will put on a card when its transaction is
billed — a gift card sold (kind `load`), a refund to store credit (kind `refund`). Registered
while the cart is open, so the transaction's log names the load by id and never carries the
card's number; applied by that log, exactly once."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from kugelpos.common.db.documents import Document

from ..ledger.documents import Movement


class LoadState(StrEnum):
    PENDING = "pending"  # registered; no money moved
    APPLIED = "applied"  # on the card
    REVERSED = "reversed"  # taken off again (its sale voided or returned)


class LoadDocument(Document):
    tenant_id: str
    load_id: str
    card_no: str
    amount: int
    kind: Movement  # LOAD or REFUND
    state: LoadState = LoadState.PENDING
    reference: str | None = None  # the cart
    store_code: str | None = None
    terminal_no: int | None = None
    applied_at: datetime | None = None
    applied_by: str | None = None  # the transaction
    reversed_at: datetime | None = None
    reversed_by: str | None = None
