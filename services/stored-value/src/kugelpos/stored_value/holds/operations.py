"""Holds inside a caller's transaction: placed, captured, released. The HTTP service wraps
each in a transaction of its own; the tranlog consumer runs capture and release inside the
event's transaction, beside its inbox record, so a bill's capture happens exactly once.

A hold moves through open -> captured | released only by the conditional `close`, so of two
closers (a bill's capture and the expiry loop; two replicas) exactly one wins."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal

from kugelpos.common.clock import to_millis, utcnow

from ..cards.documents import CardStatus
from ..cards.repository import CardRepository
from ..cards.rules import spend_refusal
from ..errors import HoldClosedError, HoldMismatchError, HoldNotFoundError
from ..ledger.book import Ctx, Move, book_move
from ..ledger.documents import Movement
from ..ledger.repository import LedgerRepository
from .documents import HoldDocument, HoldState, ReleaseReason
from .repository import HoldRepository

ACTIVE = {"status": CardStatus.ACTIVE.value}


async def place(ctx: Ctx, hold: HoldDocument) -> HoldDocument:
    """Insert the hold and take its amount off the card; the same hold asked for again
    (same card, same amount) is the first one, unchanged."""
    holds = HoldRepository(ctx.db, actor=ctx.actor)
    existing = await holds.by_id(ctx.tenant_id, hold.hold_id, session=ctx.session)
    if existing is not None:
        if existing.card_no != hold.card_no or existing.amount != hold.amount:
            raise HoldMismatchError(f"Hold {hold.hold_id} exists with another card or amount")
        return existing
    await holds.insert(hold, session=ctx.session)
    move = Move(
        Movement.HOLD,
        f"hold:{hold.hold_id}",
        hold.amount,
        change=-hold.amount,
        held_change=hold.amount,
        condition=ACTIVE,
        hold_id=hold.hold_id,
        reference=hold.reference,
        store_code=hold.store_code,
        terminal_no=hold.terminal_no,
    )
    if await book_move(ctx, hold.card_no, move) is None:
        card = await CardRepository(ctx.db).by_no(ctx.tenant_id, hold.card_no, session=ctx.session)
        raise spend_refusal(card, hold.card_no, hold.amount)
    return hold


async def capture(
    ctx: Ctx,
    hold_id: str,
    *,
    transaction: str | None,
    after_release: Literal["refuse", "debit"] = "refuse",
) -> HoldDocument:
    """Open -> captured (the money left the balance when held: the balance stays, `held`
    goes down). Captured already: the same answer. Released already: refused (409) for a
    caller that can still ask for another payment; `debit` for a bill already made (the
    event path), which takes the amount off the card again if it is there."""
    holds = HoldRepository(ctx.db, actor=ctx.actor)
    now = utcnow()
    closed = await holds.close(
        ctx.tenant_id,
        hold_id,
        {"state": HoldState.CAPTURED.value, "captured_at": now, "captured_by": transaction},
        session=ctx.session,
    )
    if closed is not None:
        move = Move(
            Movement.CAPTURE,
            f"capture:{hold_id}",
            closed.amount,
            held_change=-closed.amount,
            hold_id=hold_id,
            reference=transaction,
            store_code=closed.store_code,
            terminal_no=closed.terminal_no,
        )
        if await book_move(ctx, closed.card_no, move) is None:
            raise HoldNotFoundError(f"Hold {hold_id}: its card is gone")
        return closed
    hold = await _existing(ctx, hold_id)
    if hold.state is HoldState.CAPTURED:
        return hold
    if after_release == "refuse":
        raise HoldClosedError(f"Hold {hold_id} was released ({hold.release_reason})")
    # Released (expired while the till was slow) but the sale is billed: the card pays again.
    debit = Move(
        Movement.CAPTURE,
        f"capture:{hold_id}",
        hold.amount,
        change=-hold.amount,
        hold_id=hold_id,
        reference=transaction,
        store_code=hold.store_code,
        terminal_no=hold.terminal_no,
    )
    if await book_move(ctx, hold.card_no, debit) is None:
        card = await CardRepository(ctx.db).by_no(ctx.tenant_id, hold.card_no, session=ctx.session)
        raise spend_refusal(card, hold.card_no, hold.amount)
    changes = {"state": HoldState.CAPTURED.value, "captured_at": now, "captured_by": transaction}
    updated = await holds.update(
        {"tenant_id": ctx.tenant_id, "hold_id": hold_id}, changes, session=ctx.session
    )
    return updated or hold


async def release(ctx: Ctx, hold_id: str, reason: ReleaseReason) -> HoldDocument:
    """Open -> released, the amount back on the balance. Released already: the same answer;
    captured: refused (409): money captured comes back only through a void or a return."""
    holds = HoldRepository(ctx.db, actor=ctx.actor)
    closed = await holds.close(
        ctx.tenant_id,
        hold_id,
        {
            "state": HoldState.RELEASED.value,
            "released_at": utcnow(),
            "release_reason": reason.value,
        },
        session=ctx.session,
    )
    if closed is not None:
        move = Move(
            Movement.RELEASE,
            f"release:{hold_id}",
            closed.amount,
            change=closed.amount,
            held_change=-closed.amount,
            hold_id=hold_id,
            reference=closed.reference,
            store_code=closed.store_code,
            terminal_no=closed.terminal_no,
        )
        # No balance limit on money that was on the card a moment ago.
        if await book_move(ctx, closed.card_no, move, limit=False) is None:
            raise HoldNotFoundError(f"Hold {hold_id}: its card is gone")
        return closed
    hold = await _existing(ctx, hold_id)
    if hold.state is HoldState.RELEASED:
        return hold
    raise HoldClosedError(f"Hold {hold_id} was captured")


async def refund(ctx: Ctx, hold_id: str, *, transaction: str) -> HoldDocument:
    """A captured payment given back to its card (its sale voided): once per hold. A hold
    still open (the void's log came before the bill's) is captured first, so the bill's
    capture then finds it captured and takes nothing again."""
    hold = await _existing(ctx, hold_id)
    if hold.state is HoldState.RELEASED:
        return hold  # nothing was taken
    if hold.state is HoldState.OPEN:
        hold = await capture(ctx, hold_id, transaction=transaction)
    move = Move(
        Movement.REFUND,
        f"refund:{hold_id}",
        hold.amount,
        change=hold.amount,
        hold_id=hold_id,
        reference=transaction,
        store_code=hold.store_code,
        terminal_no=hold.terminal_no,
    )
    ledger = LedgerRepository(ctx.db)
    done = await ledger.has(ctx.tenant_id, move.entry_key, session=ctx.session)
    if not done and await book_move(ctx, hold.card_no, move, limit=False) is None:
        raise HoldNotFoundError(f"Hold {hold_id}: its card is gone")
    return hold


async def _existing(ctx: Ctx, hold_id: str) -> HoldDocument:
    hold = await HoldRepository(ctx.db).by_id(ctx.tenant_id, hold_id, session=ctx.session)
    if hold is None:
        raise HoldNotFoundError(f"Hold {hold_id} not found")
    return hold


def expiry_of(now: datetime, ttl_seconds: int) -> datetime:
    """MongoDB keeps milliseconds: the answer to the placement is what a read gives back."""
    return to_millis(now + timedelta(seconds=ttl_seconds))
