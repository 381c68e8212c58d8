"""What stored value consumes: `tranlog_report` (pubsub `pubsub`, route `/api/v1/tranlog`).

A log's card movements (`tranlogs.actions`: a bill's loads applied and holds captured, a
cancelled sale's holds released, the reversals and refunds of returns and voids) are written
in the event's transaction beside its inbox record: a redelivery, or a retry after a crash
between capture and acknowledgement, moves nothing twice. A card that refuses a movement the
sale already made (a hold released after its time and the card since spent; a loaded card
since used, its sale voided) is not an outage: the event fails with `MovementRefused`, is
retried a few times, then waits as a dead letter for an operator
(`GET /api/v1/tenants/{t}/dead-letters`, replayed once the card is put right).
"""

from __future__ import annotations

import structlog

from kugelpos.common.errors import AppError
from kugelpos.common.events.consumer import Delivery, EventConsumer, EventRejected
from kugelpos.common.events.logs import TOPIC_TRANLOG, TransactionLog

from .cards.repository import CardRepository
from .errors import HoldClosedError
from .expiry.repository import CardSettingsRepository, ExpiryRunRepository
from .holds import operations as holds
from .holds.documents import ReleaseReason
from .holds.repository import HoldRepository
from .ledger.book import Ctx
from .ledger.repository import LedgerRepository
from .loads import operations as loads
from .loads.repository import LoadRepository
from .tranlogs import Action, BadLog, Step, actions

log = structlog.get_logger(__name__)

ACTOR = "service:stored-value"
REPOSITORIES = (
    CardRepository,
    LedgerRepository,
    HoldRepository,
    LoadRepository,
    CardSettingsRepository,
    ExpiryRunRepository,
)


class MovementRefused(Exception):
    """A card refuses what a log says happened: retried, then a dead letter (not AppError,
    which the consumer takes for an outage and retries for ever)."""


class StoredValueEvents:
    def __init__(self, *, max_balance: int) -> None:
        self._max_balance = max_balance
        self.consumer = EventConsumer("stored-value", repositories=REPOSITORIES)
        self.consumer.consume(TOPIC_TRANLOG, TransactionLog, route="/api/v1/tranlog")(
            self._on_tranlog
        )

    async def _on_tranlog(self, delivery: Delivery[TransactionLog]) -> None:
        try:
            todo = actions(delivery.log)
        except BadLog as exc:
            raise EventRejected(str(exc)) from exc
        if not todo:
            delivery.drop("no stored-value movement in this log")
            return
        ctx = Ctx(delivery.db, delivery.tenant_id, delivery.session, ACTOR, self._max_balance)
        transaction = delivery.log.natural_key()
        for action in todo:
            try:
                await _apply(ctx, action, transaction)
            except AppError as exc:
                # A refusal of the card (unknown load or hold, spent, expired, over limit).
                raise MovementRefused(f"{type(exc).__name__}: {exc.message}") from exc
        log.info("card_movements", transaction=transaction, steps=[a.step.value for a in todo])


async def _apply(ctx: Ctx, action: Action, transaction: str) -> None:
    match action.step:
        case Step.APPLY:
            await loads.apply(ctx, action.id, transaction=transaction)
        case Step.REVERSE:
            await loads.reverse(ctx, action.id, transaction=transaction)
        case Step.CAPTURE:
            await holds.capture(ctx, action.id, transaction=transaction, after_release="debit")
        case Step.REFUND:
            await holds.refund(ctx, action.id, transaction=transaction)
        case Step.RELEASE:
            try:
                await holds.release(ctx, action.id, ReleaseReason.CANCELLED_SALE)
            except HoldClosedError:
                # Captured, yet its sale cancelled: the bill's log came first and stands.
                log.warning("cancelled_sale_hold_captured", hold_id=action.id)
