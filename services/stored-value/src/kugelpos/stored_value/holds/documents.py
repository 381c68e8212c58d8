"""Holds (`card_holds`): money set aside on a card for a cart's payment until the bill
captures it or it is released (cart cancelled, payment removed, time up)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from kugelpos.common.db.documents import Document


class HoldState(StrEnum):
    OPEN = "open"
    CAPTURED = "captured"
    RELEASED = "released"


class ReleaseReason(StrEnum):
    REQUESTED = "requested"  # the cart removed the payment or was cancelled
    CANCELLED_SALE = "cancelled_sale"  # a cancelled sale's log named it
    EXPIRED = "expired"  # not captured in time


class HoldDocument(Document):
    tenant_id: str
    hold_id: str
    card_no: str
    amount: int
    state: HoldState = HoldState.OPEN
    reference: str | None = None  # the cart that asked
    store_code: str | None = None
    terminal_no: int | None = None
    expires_at: datetime
    captured_at: datetime | None = None
    captured_by: str | None = None  # the transaction that captured it
    released_at: datetime | None = None
    release_reason: ReleaseReason | None = None
