"""Events that must not be lost: the transactional outbox, its relay, delivery tracking from
consumer acknowledgements, and declaring Dapr subscriptions on a FastAPI app.

A service writes each event with `Outbox.add(session, ...)` inside the MongoDB transaction that
writes the record it describes; `OutboxRelay` (started in the app lifespan) publishes it through
`DaprClientHelper` and marks it. Consumers acknowledge on the `tranlog_status` topic
(`Acknowledgement`), which `Outbox.acknowledge` turns into per-consumer delivery status; what is
not acknowledged in time is published again (consumers are idempotent on `event_id`).
"""

from .acks import ACK_TOPIC, Acknowledgement, acknowledgement_handler, publish_acknowledgement
from .config import OutboxSettings
from .outbox import (
    ConsumerStatus,
    DeliveryStatus,
    Outbox,
    OutboxRecord,
    OutboxRepository,
    RelayStatus,
)
from .relay import OutboxRelay, relay_from_settings
from .subscriptions import CloudEvent, DaprSubscriptions, Outcome

__all__ = [
    "ACK_TOPIC",
    "Acknowledgement",
    "CloudEvent",
    "ConsumerStatus",
    "DaprSubscriptions",
    "DeliveryStatus",
    "Outbox",
    "OutboxRecord",
    "OutboxRelay",
    "OutboxRepository",
    "OutboxSettings",
    "Outcome",
    "RelayStatus",
    "acknowledgement_handler",
    "publish_acknowledgement",
    "relay_from_settings",
]
