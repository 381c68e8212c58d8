"""The ledger (`card_ledger`): every movement of every card, never changed once written.

`change` is the movement's effect on the spendable balance (a hold takes the amount off, a
release gives it back, a capture of an open hold changes nothing: the money left the balance
when it was held), so a card's ledger always sums to its balance."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import Field

from kugelpos.common.clock import utcnow
from kugelpos.common.db.documents import Document


class Movement(StrEnum):
    ACTIVATION = "activation"
    LOAD = "load"
    HOLD = "hold"
    CAPTURE = "capture"
    RELEASE = "release"
    REFUND = "refund"  # money back onto a card: a return to store credit, a voided payment
    UNLOAD = "unload"  # a load taken back (its sale voided)
    EXPIRY = "expiry"
    BLOCK = "block"
    UNBLOCK = "unblock"


class LedgerEntry(Document):
    tenant_id: str
    entry_id: str
    # What makes the movement happen once: `hold:<holdId>`, `load:<transaction>:<line>`...
    entry_key: str
    card_no: str
    kind: Movement
    amount: int  # the movement's size (>= 0)
    change: int  # its effect on the balance
    balance_after: int
    held_after: int
    hold_id: str | None = None
    reference: str | None = None  # the transaction (store:terminal:number) or the cart
    store_code: str | None = None
    terminal_no: int | None = None
    at: datetime = Field(default_factory=utcnow)
