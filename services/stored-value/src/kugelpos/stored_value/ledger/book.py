"""Booking one movement: the card's conditional change and its ledger entry, in the caller's
transaction. Every balance change of the service goes through `book`, so the ledger always
sums to the balance and a failed condition writes nothing."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase

from kugelpos.common.clock import utcnow

from ..cards.documents import CardDocument
from ..cards.repository import CardRepository
from .documents import LedgerEntry, Movement
from .repository import LedgerRepository

# Movements that count as the card being used (expiry counts from the last of them).
ACTIVITY = frozenset(
    {Movement.ACTIVATION, Movement.LOAD, Movement.REFUND, Movement.HOLD, Movement.CAPTURE}
)


@dataclass(frozen=True, slots=True)
class Move:
    kind: Movement
    entry_key: str
    amount: int
    change: int = 0  # on the balance
    held_change: int = 0
    # What the card must satisfy besides existing (`{"status": "active"}`...).
    condition: dict[str, Any] = field(default_factory=dict)
    set_: dict[str, Any] = field(default_factory=dict)
    hold_id: str | None = None
    reference: str | None = None
    store_code: str | None = None
    terminal_no: int | None = None


@dataclass(frozen=True, slots=True)
class Booked:
    card: CardDocument
    entry: LedgerEntry


async def book(
    db: AsyncDatabase,
    tenant_id: str,
    card_no: str,
    move: Move,
    *,
    session: AsyncClientSession,
    actor: str | None,
    max_balance: int,
) -> Booked | None:
    """The card and entry after the move, or None when the card is missing or refuses it
    (the caller reads the card to say why). A move that takes money off asks for
    `balance >= amount`; one that adds asks that the result stays within `max_balance`."""
    condition = dict(move.condition)
    if move.change < 0:
        condition["balance"] = {"$gte": -move.change}
    elif move.change > 0:
        condition["balance"] = {"$lte": max_balance - move.change}
    inc = {"balance": move.change, "held": move.held_change}
    set_ = dict(move.set_)
    if move.kind in ACTIVITY:
        set_["last_activity_at"] = utcnow()  # what expiry counts from
    card = await CardRepository(db, actor=actor).change(
        tenant_id,
        card_no,
        condition=condition,
        inc={k: v for k, v in inc.items() if v},
        set_=set_,
        session=session,
    )
    if card is None:
        return None
    entry = LedgerEntry(
        tenant_id=tenant_id,
        entry_id=uuid.uuid4().hex,
        entry_key=move.entry_key,
        card_no=card_no,
        kind=move.kind,
        amount=move.amount,
        change=move.change,
        balance_after=card.balance,
        held_after=card.held,
        hold_id=move.hold_id,
        reference=move.reference,
        store_code=move.store_code,
        terminal_no=move.terminal_no,
        at=utcnow(),
    )
    await LedgerRepository(db, actor=actor).insert(entry, session=session)
    return Booked(card, entry)


@dataclass(frozen=True, slots=True)
class Ctx:
    """Where and as whom the operations write."""

    db: AsyncDatabase
    tenant_id: str
    session: AsyncClientSession
    actor: str | None
    max_balance: int


async def book_move(ctx: Ctx, card_no: str, move: Move, *, limit: bool = True) -> Booked | None:
    """`book` in the context's transaction (`limit`: whether the balance cap applies)."""
    return await book(
        ctx.db,
        ctx.tenant_id,
        card_no,
        move,
        session=ctx.session,
        actor=ctx.actor,
        max_balance=ctx.max_balance if limit else 2**62,
    )
