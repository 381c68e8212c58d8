"""What the cart publishes and subscribes.

Publishes (through the outbox, pub/sub component `pubsub`):
- `tranlog_report`: every sale, cancelled sale, return and void (consumers report, journal,
  stock), written in the same MongoDB transaction as the tranlog; republished while not every
  consumer has acknowledged it (`OUTBOX_ACK_TIMEOUT_SECONDS`).

Subscribes:
- `tranlog_status`: consumers' acknowledgements, which update each event's delivery status
  (the delivery-status endpoint is the second way in);
- `opencloselog_report`: a terminal was opened or closed, so its cached info is dropped;
- `masterdata_changed` (pub/sub `pubsub-broadcast`): master data changed, so the cached reads
  it can affect are dropped and the next sale sees the new price.
"""

from __future__ import annotations

from typing import Any

import structlog

from kugelpos.common.events.changes import BROADCAST_PUBSUB, MASTERDATA_CHANGED, MasterChange
from kugelpos.common.events.publisher import OutboxEvents
from kugelpos.common.events.subscriptions import CloudEvent, Outcome

from .cache.terminals import TerminalInfoCache
from .config import TOPIC_OPENCLOSELOG, CartSettings
from .master_data_client import MasterDataClient

log = structlog.get_logger(__name__)


class CartEvents(OutboxEvents):
    """The outbox machinery (commons), plus the cart's own subscriptions."""

    def __init__(
        self, settings: CartSettings, master_data: MasterDataClient, terminals: TerminalInfoCache
    ) -> None:
        super().__init__(settings)
        self.master_data = master_data
        self.terminals = terminals
        self.subscriptions.add(TOPIC_OPENCLOSELOG, self._on_open_close)
        self.subscriptions.add(MASTERDATA_CHANGED, self._on_master_change, pubsub=BROADCAST_PUBSUB)

    async def _on_master_change(self, event: CloudEvent) -> Outcome:
        change = MasterChange.from_event(event.data)
        if change is None:
            return Outcome.DROP
        self.master_data.forget(change)
        return Outcome.SUCCESS

    async def _on_open_close(self, event: CloudEvent) -> Outcome:
        data: Any = event.data
        if not isinstance(data, dict):
            return Outcome.DROP
        info = data.get("terminal_info") if isinstance(data.get("terminal_info"), dict) else {}
        terminal_id = info.get("terminal_id")
        if not terminal_id and data.get("tenant_id") and data.get("store_code"):
            terminal_id = f"{data['tenant_id']}-{data['store_code']}-{data.get('terminal_no')}"
        if terminal_id:
            await self.terminals.forget(str(terminal_id))
            log.info("terminal_cache_dropped", terminal_id=terminal_id)
        return Outcome.SUCCESS
