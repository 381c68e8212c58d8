"""Alerts after every stock change that leaves an item at or below a threshold.

Cooldown shared by the replicas: the first replica to write the alert's key (Dapr state store,
first-write, TTL = cooldown) sends it; the others are suppressed until the key expires. The
alert is published on the broadcast pub/sub, so every replica hands it to its own sockets of
the store. Best effort and at most once, as in v1: a store without listeners costs one publish.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any

import structlog

from kugelpos.common.clients.dapr import DaprClientHelper
from kugelpos.common.clock import utcnow
from kugelpos.common.errors import AppError, ConflictError
from kugelpos.common.events.changes import BROADCAST_PUBSUB

from ..stocks.documents import StockDocument
from .hub import AlertHub
from .messages import alert, cooldown_key, due_alerts

log = structlog.get_logger(__name__)

STOCK_ALERTS = "stock_alerts"


class AlertService:
    def __init__(
        self,
        dapr: DaprClientHelper,
        hub: AlertHub,
        *,
        state_store: str,
        cooldown_seconds: int,
        pubsub: str = BROADCAST_PUBSUB,
    ) -> None:
        self._dapr = dapr
        self.hub = hub
        self._store = state_store
        self._cooldown = cooldown_seconds
        self._pubsub = pubsub
        self._pending: set[asyncio.Task[None]] = set()

    def evaluate_later(self, rows: list[StockDocument]) -> None:
        """Evaluate in the background: a stock update never waits for alerts."""
        if not rows:
            return
        task = asyncio.get_running_loop().create_task(self.evaluate(rows))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def evaluate(self, rows: list[StockDocument]) -> int:
        sent = 0
        for row in rows:
            for kind in due_alerts(row):
                if await self._cooldown_allows(cooldown_key(kind, row)):
                    await self._publish(alert(kind, row))
                    sent += 1
        return sent

    async def _cooldown_allows(self, key: str) -> bool:
        try:
            await self._dapr.save_state(
                self._store, key, {"sent": True}, ttl_seconds=self._cooldown, first_write=True
            )
        except ConflictError:
            return False  # sent by someone less than a cooldown ago
        except AppError as exc:
            # Without the shared cooldown an alert may repeat; better than losing it.
            log.warning("alert_cooldown_unavailable", error=exc.message)
        return True

    async def _publish(self, message: dict[str, Any]) -> None:
        try:
            await self._dapr.publish(self._pubsub, STOCK_ALERTS, message)
        except AppError as exc:
            log.warning("alert_not_broadcast", error=exc.message)
            await self.hub.send(message["tenant_id"], message["store_code"], message)

    async def on_broadcast(self, message: Any, now: datetime | None = None) -> bool:
        """An alert from any replica (this one included): hand it to the local sockets,
        unless it is older than the cooldown. A replica started later gets the broadcast
        topic's retained history (daprd starts its group at the stream's beginning), and a
        clerk must not see yesterday's alerts pop up: a socket gets the alerts in force when it
        connects, and a still-low item alerts again once its cooldown is over."""
        if not isinstance(message, dict) or message.get("type") != "stock_alert":
            return False
        tenant_id, store_code = message.get("tenant_id"), message.get("store_code")
        if not (isinstance(tenant_id, str) and isinstance(store_code, str)):
            return False
        sent_at = _instant(message.get("timestamp"))
        if sent_at is not None and sent_at < (now or utcnow()) - timedelta(seconds=self._cooldown):
            log.info("stale_alert_skipped", item_code=message.get("item_code"), at=sent_at)
            return True  # taken: nothing to redeliver
        await self.hub.send(tenant_id, store_code, message)
        return True

    async def drain(self) -> None:
        if self._pending:
            await asyncio.gather(*self._pending, return_exceptions=True)


def _instant(value: Any) -> datetime | None:
    """An alert's `timestamp` (ISO 8601, written by `messages.alert`); None if unreadable."""
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None
