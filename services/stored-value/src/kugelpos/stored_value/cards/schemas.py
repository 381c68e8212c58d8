"""API models of cards and their ledger (kept apart from the stored documents). Numbers are
masked everywhere but in `IssuedCard`, the one answer that issues cards."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import Field

from kugelpos.common.schemas import ApiModel

from ..ledger.documents import LedgerEntry, Movement
from .documents import CardDocument, CardKind, CardStatus
from .numbers import masked

Pin = Annotated[str, Field(pattern=r"^[0-9]{4,8}$")]


class IssueRequest(ApiModel):
    kind: CardKind
    count: Annotated[int, Field(ge=1, le=10_000)] = 1
    # A random 6-digit PIN per card, shown once beside its number.
    with_pin: bool = False


class IssuedCard(ApiModel):
    card_no: str
    kind: CardKind
    status: CardStatus
    pin: str | None = None


class CardResponse(ApiModel):
    card_no: str  # masked
    kind: CardKind
    status: CardStatus
    balance: int  # spendable, in the currency's minor units
    held_amount: int  # set aside by open holds (not in `balance`)
    has_pin: bool
    activated_at: datetime | None = None
    created_at: datetime

    @classmethod
    def of(cls, card: CardDocument) -> CardResponse:
        return cls(
            card_no=masked(card.card_no),
            kind=card.kind,
            status=card.status,
            balance=card.balance,
            held_amount=card.held,
            has_pin=card.pin_hash is not None,
            activated_at=card.activated_at,
            created_at=card.created_at,
        )


class LedgerEntryResponse(ApiModel):
    entry_id: str
    card_no: str  # masked
    kind: Movement
    amount: int
    change: int
    balance_after: int
    held_after: int
    hold_id: str | None = None
    reference: str | None = None
    store_code: str | None = None
    terminal_no: int | None = None
    by: str | None = None
    at: datetime

    @classmethod
    def of(cls, entry: LedgerEntry) -> LedgerEntryResponse:
        return cls(
            entry_id=entry.entry_id,
            card_no=masked(entry.card_no),
            kind=entry.kind,
            amount=entry.amount,
            change=entry.change,
            balance_after=entry.balance_after,
            held_after=entry.held_after,
            hold_id=entry.hold_id,
            reference=entry.reference,
            store_code=entry.store_code,
            terminal_no=entry.terminal_no,
            by=entry.created_by,
            at=entry.at,
        )
