"""Consumer acknowledgements (`tranlog_status` topic): "I processed event X" or "I failed"."""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Iterable
from typing import Literal

import structlog
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..clients.dapr import DaprClientHelper
from .outbox import AckOutcome, Outbox, OutboxRecord
from .subscriptions import CloudEvent, Handler, Outcome

log = structlog.get_logger(__name__)

ACK_TOPIC = "tranlog_status"
# Sent only when set: an ordinary acknowledgement keeps the v1 shape (plus `topic`).
_OPTIONAL = ("attempt", "final", "replay")


class Acknowledgement(BaseModel):
    """What a consumer publishes on `tranlog_status` after handling an event (snake_case, as
    the v1 delivery-status body). `service` is the consumer's name (e.g. `report`)."""

    model_config = ConfigDict(extra="ignore")

    event_id: str = Field(min_length=1, max_length=128)
    service: str = Field(min_length=1, max_length=64)
    status: Literal["received", "failed"]
    message: str | None = Field(default=None, max_length=1000)
    # Added to v1: the topic of the acknowledged event. Every publisher receives every
    # acknowledgement on the shared topic; with it, one that does not publish the topic skips
    # the outbox lookup (at 10 tills the terminal looked up ~3 foreign acks per sale).
    topic: str | None = Field(default=None, max_length=128)
    # Added to v1, with a `failed` status. `attempt`: the consumer's count of handler errors
    # (bugs) for this event. `final`: it will not take the event again (rejected, invalid,
    # or a dead letter): the publisher stops republishing it (`given_up`). `replay`: an
    # operator replays it: the publisher publishes it again.
    attempt: int | None = Field(default=None, ge=0, le=1_000_000)
    final: bool | None = None
    replay: bool | None = None


def acknowledgements_for(topics: Iterable[str]) -> str | None:
    """The subscription rule (CEL) that lets a publisher receive only the acknowledgements of
    its own topics, and those without a topic (older consumers), instead of every one on the
    shared topic: at 10 tills the sidecar delivered three acks a sale to the terminal, which
    publishes no sale. None (every acknowledgement) when no topic is given."""
    names = sorted(set(topics))
    if not names:
        return None
    return " || ".join(["!has(event.data.topic)", *(f'event.data.topic == "{t}"' for t in names)])


async def publish_acknowledgement(
    dapr: DaprClientHelper, ack: Acknowledgement, *, pubsub: str = "pubsub"
) -> None:
    """For consumers: tell the publisher how its event went (raises DaprError when down)."""
    unset = {name for name in _OPTIONAL if getattr(ack, name) is None}
    await dapr.publish(pubsub, ACK_TOPIC, ack.model_dump(mode="json", exclude=unset))


class AckBatcher:
    """Group commit of acknowledgements: the first one is written at once; those that arrive
    while a write is in flight wait for it and go together in the next one (`acknowledge_many`:
    one read and one write for the lot). No delay is added when acks come one at a time, and
    under load the writes stay few. Each caller returns only once its own ack is written, so
    the sidecar's SUCCESS still means recorded."""

    def __init__(self, outbox: Outbox, *, max_batch: int = 64) -> None:
        self.outbox = outbox
        self.max_batch = max_batch
        self._waiting: list[tuple[Acknowledgement, asyncio.Future[OutboxRecord | None]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def submit(self, ack: Acknowledgement) -> OutboxRecord | None:
        future: asyncio.Future[OutboxRecord | None] = asyncio.get_running_loop().create_future()
        self._waiting.append((ack, future))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write_all())
        return await asyncio.shield(future)

    async def _write_all(self) -> None:
        while self._waiting:
            batch, self._waiting = (
                self._waiting[: self.max_batch],
                self._waiting[self.max_batch :],
            )
            try:
                records = await self.outbox.acknowledge_many(
                    AckOutcome(
                        a.event_id,
                        a.service,
                        a.status,
                        a.message,
                        attempt=a.attempt,
                        final=bool(a.final),
                        replay=bool(a.replay),
                    )
                    for a, _ in batch
                )
            except Exception as exc:  # every caller of this batch sees the failure
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                continue
            for ack, future in batch:
                if not future.done():
                    future.set_result(records.get(ack.event_id))


_BATCHERS: weakref.WeakKeyDictionary[Outbox, AckBatcher] = weakref.WeakKeyDictionary()


def ack_batcher(outbox: Outbox) -> AckBatcher:
    """The one batcher of an outbox (its handlers may be created per delivery)."""
    batcher = _BATCHERS.get(outbox)
    if batcher is None:
        batcher = _BATCHERS[outbox] = AckBatcher(outbox)
    return batcher


def acknowledgement_handler(outbox: Outbox) -> Handler:
    """A `tranlog_status` handler for a publisher: records acks of its own events.

    Every publisher receives every acknowledgement on the shared topic: one naming a topic this
    outbox has no consumers for, or an unknown event id (another service's event), is
    acknowledged and ignored; a malformed message is dropped.
    """

    async def handle(event: CloudEvent) -> Outcome:
        try:
            ack = Acknowledgement.model_validate(event.data)
        except ValidationError:
            log.warning("ack_malformed", cloudevent_id=event.id)
            return Outcome.DROP
        if not outbox.expects_acks_for(ack.topic):
            return Outcome.SUCCESS  # another publisher's event
        record = await ack_batcher(outbox).submit(ack)
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
