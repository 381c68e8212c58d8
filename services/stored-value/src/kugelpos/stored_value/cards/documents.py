"""Stored cards (`cards`): one document per card, its spendable balance and what is held."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from kugelpos.common.db.documents import Document


class CardKind(StrEnum):
    GIFT = "gift"  # sold at the till, loaded by the sale
    CREDIT = "credit"  # store credit: loaded by a refund


class CardStatus(StrEnum):
    INACTIVE = "inactive"  # issued, never loaded
    ACTIVE = "active"
    BLOCKED = "blocked"  # may be loaded, not spent (a lost card, a fraud check)
    EXPIRED = "expired"


class CardDocument(Document):
    tenant_id: str
    card_no: str  # stored whole: it is the lookup key; never logged nor answered whole
    kind: CardKind
    status: CardStatus = CardStatus.INACTIVE
    # Spendable balance, in the currency's minor units: holds are taken off it when placed
    # (so concurrent holds can never overdraw) and given back when released.
    balance: int = 0
    held: int = 0  # the sum of the card's open holds
    pin_hash: str | None = None
    activated_at: datetime | None = None
    last_activity_at: datetime | None = None  # the last load, refund, hold or capture
    store_code: str | None = None  # where it was activated
