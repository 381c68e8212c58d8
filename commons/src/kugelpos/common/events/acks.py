"""Consumer acknowledgements (`tranlog_status` topic): "I processed event X" or "I failed"."""

from __future__ import annotations

from typing import Literal

import structlog
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..clients.dapr import DaprClientHelper
from .outbox import Outbox
from .subscriptions import CloudEvent, Handler, Outcome

log = structlog.get_logger(__name__)

ACK_TOPIC = "tranlog_status"


class Acknowledgement(BaseModel):
    """What a consumer publishes on `tranlog_status` after handling an event (snake_case, as
    the v1 delivery-status body). `service` is the consumer's name (e.g. `report`)."""

    model_config = ConfigDict(extra="ignore")

    event_id: str = Field(min_length=1, max_length=128)
    service: str = Field(min_length=1, max_length=64)
    status: Literal["received", "failed"]
    message: str | None = Field(default=None, max_length=1000)


async def publish_acknowledgement(
    dapr: DaprClientHelper, ack: Acknowledgement, *, pubsub: str = "pubsub"
) -> None:
    """For consumers: tell the publisher how its event went (raises DaprError when down)."""
    await dapr.publish(pubsub, ACK_TOPIC, ack.model_dump(mode="json"))


def acknowledgement_handler(outbox: Outbox) -> Handler:
    """A `tranlog_status` handler for a publisher: records acks of its own events.

    Every publisher receives every acknowledgement on the shared topic, so an unknown event id
    (another service's event) is acknowledged and ignored; a malformed message is dropped.
    """

    async def handle(event: CloudEvent) -> Outcome:
        try:
            ack = Acknowledgement.model_validate(event.data)
        except ValidationError:
            log.warning("ack_malformed", cloudevent_id=event.id)
            return Outcome.DROP
        record = await outbox.acknowledge(ack.event_id, ack.service, ack.status, ack.message)
        if record is not None:
            log.info(
                "ack_recorded",
                event_id=ack.event_id,
                service=ack.service,
                status=ack.status,
                overall=record.status,
            )
        return Outcome.SUCCESS

    return handle
