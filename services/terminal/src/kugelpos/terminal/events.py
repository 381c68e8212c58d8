"""What the terminal publishes and subscribes.

Publishes (through the outbox, pub/sub component `pubsub`):
- `cashlog_report`: every cash movement, including the opening float (`event_type` cash_in_out)
- `opencloselog_report`: every open and close (`event_type` open / close)

Subscribes:
- `tranlog_status`: consumers' acknowledgements, which update each event's delivery status
"""

from __future__ import annotations

from kugelpos.common.events.acks import ACK_TOPIC, acknowledgement_handler
from kugelpos.common.events.outbox import Outbox
from kugelpos.common.events.relay import OutboxRelay, relay_from_settings
from kugelpos.common.events.subscriptions import CloudEvent, DaprSubscriptions, Outcome
from kugelpos.common.web.app import Infrastructure

from .config import TerminalSettings


class TerminalEvents:
    """Created with the app; the outbox and its relay come to life in the lifespan."""

    def __init__(self, settings: TerminalSettings) -> None:
        self.settings = settings
        self.subscriptions = DaprSubscriptions(pubsub=settings.pubsub_name)
        self.subscriptions.add(ACK_TOPIC, self._on_status)
        self.outbox: Outbox | None = None
        self.relay: OutboxRelay | None = None

    async def _on_status(self, event: CloudEvent) -> Outcome:
        if self.outbox is None:
            return Outcome.RETRY  # not started yet
        return await acknowledgement_handler(self.outbox)(event)

    async def start(self, infra: Infrastructure) -> None:
        outbox = Outbox(
            infra.mongo.commons_db(),
            pubsub=self.settings.pubsub_name,
            consumers=self.settings.event_consumers,
        )
        await outbox.ensure_indexes()
        self.outbox = outbox
        infra.extras["outbox"] = outbox
        self.relay = relay_from_settings(outbox, infra.dapr, self.settings)
        self.relay.start()

    async def stop(self, infra: Infrastructure) -> None:
        if self.relay is not None:
            await self.relay.stop()
