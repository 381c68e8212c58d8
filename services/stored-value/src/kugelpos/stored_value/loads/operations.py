"""Pending loads inside a caller's transaction: registered (by the cart, over HTTP), applied
and reversed (by transaction logs, in the event's transaction).

Logs may arrive out of order (a void's before its sale's): a reversal of a load still
pending marks it reversed with no money moved, and the sale's log then finds nothing to
apply, so the two always net to zero."""

from __future__ import annotations

from kugelpos.common.clock import utcnow

from ..cards.documents import CardStatus
from ..cards.repository import CardRepository
from ..cards.rules import load_refusal, spend_refusal
from ..errors import CardNotUsableError, LoadMismatchError, LoadNotFoundError
from ..ledger.book import Ctx, Move, book_move
from ..ledger.documents import Movement
from .documents import LoadDocument, LoadState
from .repository import LoadRepository

_NOT_EXPIRED = {"status": {"$ne": CardStatus.EXPIRED.value}}


async def register(ctx: Ctx, load: LoadDocument) -> LoadDocument:
    """Record a load to come; the same load id again (same card, amount, kind) is the first."""
    loads = LoadRepository(ctx.db, actor=ctx.actor)
    existing = await loads.by_id(ctx.tenant_id, load.load_id, session=ctx.session)
    if existing is not None:
        same = (existing.card_no, existing.amount, existing.kind)
        if same != (load.card_no, load.amount, load.kind):
            raise LoadMismatchError(f"Load {load.load_id} exists with another card or amount")
        return existing
    card = await CardRepository(ctx.db).by_no(ctx.tenant_id, load.card_no, session=ctx.session)
    if card is None:
        raise load_refusal(None, load.card_no, load.amount, ctx.max_balance)
    if card.status is CardStatus.EXPIRED:
        raise CardNotUsableError("The card is expired")
    if card.balance + card.held + load.amount > ctx.max_balance:
        raise load_refusal(card, load.card_no, load.amount, ctx.max_balance)
    await loads.insert(load, session=ctx.session)
    return load


async def apply(ctx: Ctx, load_id: str, *, transaction: str) -> LoadDocument | None:
    """Pending -> applied: the card activated if new, the amount on it. Applied or reversed
    already: nothing (None)."""
    load = await LoadRepository(ctx.db, actor=ctx.actor).move(
        ctx.tenant_id,
        load_id,
        LoadState.PENDING,
        {"state": LoadState.APPLIED.value, "applied_at": utcnow(), "applied_by": transaction},
        session=ctx.session,
    )
    if load is None:
        await _existing(ctx, load_id)
        return None
    where = {"store_code": load.store_code, "terminal_no": load.terminal_no}
    card = await CardRepository(ctx.db).by_no(ctx.tenant_id, load.card_no, session=ctx.session)
    if card is not None and card.status is CardStatus.INACTIVE:
        activation = Move(
            Movement.ACTIVATION,
            f"{Movement.ACTIVATION.value}:{load.card_no}",
            0,
            condition={"status": CardStatus.INACTIVE.value},
            set_={
                "status": CardStatus.ACTIVE.value,
                "activated_at": utcnow(),
                "store_code": load.store_code,
            },
            reference=transaction,
            **where,
        )
        await book_move(ctx, load.card_no, activation)
    move = Move(
        load.kind,
        f"{load.kind.value}:{load_id}",
        load.amount,
        change=load.amount,
        condition=_NOT_EXPIRED,
        reference=transaction,
        **where,
    )
    if await book_move(ctx, load.card_no, move) is None:
        now = await CardRepository(ctx.db).by_no(ctx.tenant_id, load.card_no, session=ctx.session)
        raise load_refusal(now, load.card_no, load.amount, ctx.max_balance)
    return load


async def reverse(ctx: Ctx, load_id: str, *, transaction: str) -> LoadDocument | None:
    """Applied -> reversed: the amount off the card again (refused if it has been spent).
    Pending: reversed with no money moved (the void came first). Reversed: nothing."""
    loads = LoadRepository(ctx.db, actor=ctx.actor)
    changes = {
        "state": LoadState.REVERSED.value,
        "reversed_at": utcnow(),
        "reversed_by": transaction,
    }
    if await loads.move(ctx.tenant_id, load_id, LoadState.PENDING, changes, session=ctx.session):
        return None
    load = await loads.move(ctx.tenant_id, load_id, LoadState.APPLIED, changes, session=ctx.session)
    if load is None:
        await _existing(ctx, load_id)
        return None
    move = Move(
        Movement.UNLOAD,
        f"{Movement.UNLOAD.value}:{load_id}",
        load.amount,
        change=-load.amount,
        condition=_NOT_EXPIRED,
        reference=transaction,
        store_code=load.store_code,
        terminal_no=load.terminal_no,
    )
    if await book_move(ctx, load.card_no, move) is None:
        now = await CardRepository(ctx.db).by_no(ctx.tenant_id, load.card_no, session=ctx.session)
        raise spend_refusal(now, load.card_no, load.amount)
    return load


async def _existing(ctx: Ctx, load_id: str) -> LoadDocument:
    found = await LoadRepository(ctx.db).by_id(ctx.tenant_id, load_id, session=ctx.session)
    if found is None:
        raise LoadNotFoundError(f"Load {load_id} not found")
    return found
