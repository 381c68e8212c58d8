"""What stock consumes and publishes.

- `tranlog_report` (pubsub `pubsub`, route `/api/v1/tranlog`): sales into stock through the
  commons `EventConsumer`: every line's change, its history row and the inbox record commit
  in one transaction, so a redelivery or a retry after a crash applies nothing twice.
- `stock_alerts` (pubsub `pubsub-broadcast`): alerts fanned out to every replica, each of
  which hands them to the sockets it holds.
"""

from __future__ import annotations

import asyncio

import structlog

from kugelpos.common.events.changes import BROADCAST_PUBSUB
from kugelpos.common.events.consumer import Delivery, EventConsumer, EventRejected
from kugelpos.common.events.inbox import PROCESSED_EVENTS
from kugelpos.common.events.logs import TOPIC_TRANLOG, TransactionLog
from kugelpos.common.events.subscriptions import CloudEvent, Outcome

from .alerts.messages import has_threshold
from .alerts.service import STOCK_ALERTS, AlertService
from .counts.repository import CountLineRepository, CountRepository
from .receipts.repository import ReceiptRepository
from .sales import SALE_EFFECTS, BadLine, stock_changes
from .snapshots.repository import SnapshotRepository
from .stocks.documents import StockDocument
from .stocks.repository import StockRepository, StockUpdateRepository
from .stocks.service import apply_changes
from .transfers.repository import TransferRepository

log = structlog.get_logger(__name__)

REPOSITORIES = (
    StockRepository,
    StockUpdateRepository,
    SnapshotRepository,
    ReceiptRepository,
    CountRepository,
    CountLineRepository,
    TransferRepository,
)
# How long the post-commit alert check waits for the event's commit to become visible.
_COMMIT_WAIT_SECONDS = 5.0


class StockEvents:
    def __init__(self, alerts: AlertService) -> None:
        self.alerts = alerts
        self.consumer = EventConsumer("stock", repositories=REPOSITORIES)
        self.consumer.consume(TOPIC_TRANLOG, TransactionLog, route="/api/v1/tranlog")(
            self._on_tranlog
        )
        # One `/dapr/subscribe` for both components: the alert fan-out joins the same list.
        self.consumer.subscriptions.add(STOCK_ALERTS, self._on_alert, pubsub=BROADCAST_PUBSUB)
        self._checks: set[asyncio.Task[None]] = set()

    async def _on_tranlog(self, delivery: Delivery[TransactionLog]) -> None:
        try:
            changes = stock_changes(delivery.log, event_id=delivery.event_id)
        except BadLine as exc:
            raise EventRejected(str(exc)) from exc
        if not changes:
            # A cancelled sale, a cart cancelled or emptied line by line, a log of another kind:
            # nothing moves stock. Recorded in the inbox (a redelivery stays a duplicate).
            delivery.drop(_why_nothing(delivery.log))
            return
        applied = await apply_changes(
            delivery.db,
            delivery.tenant_id,
            changes,
            session=delivery.session,
            actor="service:stock",
        )
        # Only a row with a threshold can raise an alert; the others need no look after
        # commit (most items have none: a sale then costs no reads beyond its writes).
        rows = [a.row for a in applied if has_threshold(a.row)]
        if rows:
            self._alert_after_commit(delivery, rows)

    def _alert_after_commit(self, delivery: Delivery[TransactionLog], rows: list) -> None:
        """Alerts only for a committed event, judged on the rows as they are then."""
        task = asyncio.get_running_loop().create_task(
            self._check_alerts(delivery.db, delivery.event_id, rows)
        )
        self._checks.add(task)
        task.add_done_callback(self._checks.discard)

    async def _check_alerts(self, db, event_id: str, rows: list[StockDocument]) -> None:
        deadline = asyncio.get_running_loop().time() + _COMMIT_WAIT_SECONDS
        while await db[PROCESSED_EVENTS].find_one({"event_id": event_id}, {"_id": 1}) is None:
            if asyncio.get_running_loop().time() > deadline:
                return  # rolled back (or retried under another attempt, which checks again)
            await asyncio.sleep(0.05)
        repo = StockRepository(db)
        current = []
        for row in {(r.tenant_id, r.store_code, r.item_code): r for r in rows}.values():
            fresh = await repo.find_one(
                StockRepository.key(row.tenant_id, row.store_code, row.item_code)
            )
            if fresh is not None:
                current.append(fresh)
        await self.alerts.evaluate(current)

    async def _on_alert(self, event: CloudEvent) -> Outcome:
        delivered = await self.alerts.on_broadcast(event.data)
        return Outcome.SUCCESS if delivered else Outcome.DROP


def _why_nothing(log_: TransactionLog) -> str:
    if log_.transaction_type not in SALE_EFFECTS:
        return f"transaction type {log_.transaction_type} does not move stock"
    if log_.is_cancelled:
        return "cancelled sale"
    return "no line moves stock (all cancelled, or none with a quantity)"
