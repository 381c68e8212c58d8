"""What stored value consumes: `tranlog_report` (pubsub `pubsub`, route `/api/v1/tranlog`).

A bill's card movements (loads of the cards it sold, captures of its payments' holds),
a cancelled sale's releases, and the loads, unloads and refunds of returns and voids
(`tranlogs.actions`) are written in the event's transaction beside its inbox record: a
redelivery, or a retry after a crash between capture and acknowledgement, moves nothing
twice. A card that refuses a movement the sale already made (a hold released after its time
and the card since spent; an expired card) is not an outage: the event fails with
`MovementRefused`, is retried a few times, then waits as a dead letter for an operator
(`GET /api/v1/tenants/{t}/dead-letters`, replayed once the card is put right).
"""

from __future__ import annotations

import structlog

from kugelpos.common.clock import utcnow
from kugelpos.common.errors import AppError
from kugelpos.common.events.consumer import Delivery, EventConsumer, EventRejected
from kugelpos.common.events.logs import TOPIC_TRANLOG, TransactionLog

from .cards.documents import CardStatus
from .cards.numbers import masked
from .cards.repository import CardRepository
from .cards.rules import load_refusal, spend_refusal
from .errors import HoldClosedError
from .holds import operations
from .holds.documents import ReleaseReason
from .holds.operations import Ctx
from .holds.repository import HoldRepository
from .ledger.book import Booked, Move, book
from .ledger.documents import Movement
from .ledger.repository import LedgerRepository
from .tranlogs import Action, BadLog, CardMove, HoldMove, actions

log = structlog.get_logger(__name__)

ACTOR = "service:stored-value"
REPOSITORIES = (CardRepository, LedgerRepository, HoldRepository)
_NOT_EXPIRED = {"status": {"$ne": CardStatus.EXPIRED.value}}


class MovementRefused(Exception):
    """A card refuses what a log says happened: retried, then a dead letter (not AppError,
    which the consumer takes for an outage and retries for ever)."""


class StoredValueEvents:
    def __init__(self, *, decimals: int, max_balance: int) -> None:
        self._decimals = decimals
        self._max_balance = max_balance
        self.consumer = EventConsumer("stored-value", repositories=REPOSITORIES)
        self.consumer.consume(TOPIC_TRANLOG, TransactionLog, route="/api/v1/tranlog")(
            self._on_tranlog
        )

    async def _on_tranlog(self, delivery: Delivery[TransactionLog]) -> None:
        try:
            todo = actions(delivery.log, decimals=self._decimals)
        except BadLog as exc:
            raise EventRejected(str(exc)) from exc
        if not todo:
            delivery.drop("no stored-value movement in this log")
            return
        ctx = Ctx(delivery.db, delivery.tenant_id, delivery.session, ACTOR, self._max_balance)
        log_ = delivery.log
        for action in todo:
            try:
                await self._apply(ctx, action, log_)
            except AppError as exc:
                # A refusal of the card (not found, spent, expired, over its limit).
                raise MovementRefused(f"{type(exc).__name__}: {exc.message}") from exc

    async def _apply(self, ctx: Ctx, action: Action, log_: TransactionLog) -> None:
        transaction = log_.natural_key()
        if isinstance(action, HoldMove):
            if action.kind is Movement.CAPTURE:
                await operations.capture(
                    ctx, action.hold_id, transaction=transaction, after_release="debit"
                )
            else:
                try:
                    await operations.release(ctx, action.hold_id, ReleaseReason.CANCELLED_SALE)
                except HoldClosedError:
                    # Captured, yet its sale cancelled: the bill's log came first and
                    # stands; the cancellation is the cart's word on a sale it never billed.
                    log.warning("cancelled_sale_hold_captured", hold_id=action.hold_id)
            return
        await self._card_move(ctx, action, log_)

    async def _card_move(self, ctx: Ctx, action: CardMove, log_: TransactionLog) -> None:
        where = {"store_code": log_.store_code, "terminal_no": log_.terminal_no}
        card = await CardRepository(ctx.db).by_no(
            ctx.tenant_id, action.card_no, session=ctx.session
        )
        if card is None:
            raise load_refusal(None, action.card_no, action.amount, self._max_balance)
        adds = action.kind in (Movement.LOAD, Movement.REFUND)
        if adds and card.status is CardStatus.INACTIVE:
            activation = Move(
                Movement.ACTIVATION,
                f"{Movement.ACTIVATION.value}:{action.card_no}",
                0,
                condition={"status": CardStatus.INACTIVE.value},
                set_={
                    "status": CardStatus.ACTIVE.value,
                    "activated_at": utcnow(),
                    "store_code": log_.store_code,
                },
                reference=log_.natural_key(),
                **where,
            )
            await self._book(ctx, action.card_no, activation)
        move = Move(
            action.kind,
            action.key,
            action.amount,
            change=action.amount if adds else -action.amount,
            condition=_NOT_EXPIRED,
            reference=log_.natural_key(),
            **where,
        )
        if await self._book(ctx, action.card_no, move) is None:
            now = await CardRepository(ctx.db).by_no(
                ctx.tenant_id, action.card_no, session=ctx.session
            )
            if adds:
                raise load_refusal(now, action.card_no, action.amount, self._max_balance)
            raise spend_refusal(now, action.card_no, action.amount)
        log.info(
            "card_moved",
            kind=action.kind.value,
            card=masked(action.card_no),
            amount=action.amount,
            transaction=log_.natural_key(),
        )

    async def _book(self, ctx: Ctx, card_no: str, move: Move) -> Booked | None:
        return await book(
            ctx.db,
            ctx.tenant_id,
            card_no,
            move,
            session=ctx.session,
            actor=ctx.actor,
            max_balance=self._max_balance,
        )
