"""The transactional outbox: one `outbox` document per event, written in the same MongoDB
transaction as the record it describes, then published by `OutboxRelay`.

The same document tracks delivery: overall status and one entry per expected consumer, updated
from acknowledgements (the `tranlog_status` topic or an HTTP delivery-status endpoint).

An event no consumer that still lacks it will ever take (each one reported it `failed` for
good: rejected, invalid, or a dead letter after its bounded tries) is `given_up`: the relay
stops republishing it. A consumer's `replay` acknowledgement (an operator replays its dead
letter) re-arms it: it is published again at once.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Iterable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

import structlog
from pydantic import BaseModel, Field
from pymongo import ReturnDocument, UpdateOne
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase

from ..clock import utcnow
from ..db.documents import Document
from ..db.indexes import index
from ..db.mongo import Mongo
from ..db.repository import Repository

log = structlog.get_logger(__name__)

OUTBOX_COLLECTION = "outbox"
_MAX_STATUS_TRIES = 10


class RelayStatus(StrEnum):
    """Where the relay is with an event."""

    PENDING = "pending"  # waiting to be (re)published
    PUBLISHING = "publishing"  # claimed by one relay until its lease ends
    PUBLISHED = "published"  # the sidecar accepted it
    # No longer republished: every consumer without it gave it up for good (or nothing
    # acknowledged it within OUTBOX_GIVE_UP_SECONDS). A replay re-arms it.
    GIVEN_UP = "given_up"


class DeliveryStatus(StrEnum):
    """Overall delivery status (the v1 values, plus `pending` before the first publish)."""

    PENDING = "pending"
    PUBLISHED = "published"
    DELIVERED = "delivered"
    PARTIALLY_DELIVERED = "partially_delivered"
    FAILED = "failed"


# Overall statuses of a published event that still waits for acknowledgements.
AWAITING_ACK = [
    DeliveryStatus.PUBLISHED.value,
    DeliveryStatus.PARTIALLY_DELIVERED.value,
    DeliveryStatus.FAILED.value,
]


class ConsumerStatus(StrEnum):
    PENDING = "pending"
    RECEIVED = "received"
    FAILED = "failed"


class ConsumerDelivery(BaseModel):
    service_name: str
    status: ConsumerStatus = ConsumerStatus.PENDING
    received_at: datetime | None = None
    message: str | None = None
    # Handler errors (bugs) the consumer reported for this event, and whether it gave the
    # event up for good (it will not take it again without a replay).
    attempts: int = 0
    final: bool = False


@dataclass(frozen=True, slots=True)
class AckOutcome:
    """One consumer's acknowledgement as the outbox records it (see `Acknowledgement`)."""

    event_id: str
    service: str
    status: ConsumerStatus | str
    message: str | None = None
    attempt: int | None = None
    final: bool = False
    replay: bool = False

    @classmethod
    def of(cls, value: AckOutcome | tuple) -> AckOutcome:
        """An `AckOutcome`, or the (event id, service, status, message) tuple of before."""
        return value if isinstance(value, AckOutcome) else cls(*value)


def next_entry(
    entry: ConsumerDelivery, ack: AckOutcome, tries: int, now: datetime
) -> ConsumerDelivery | None:
    """A consumer's entry after `ack`, or None when the acknowledgement changes nothing
    (received stays received; the same failure reported again). A failure is final when the
    consumer says so or has reported `tries` handler errors; a replay starts it afresh."""
    status = ConsumerStatus(ack.status)
    if entry.status is ConsumerStatus.RECEIVED:
        return None
    if status is ConsumerStatus.RECEIVED:
        return entry.model_copy(
            update={"status": status, "received_at": now, "message": ack.message, "final": False}
        )
    if ack.replay:
        attempts, final = 0, False
    else:
        attempts = max(entry.attempts, ack.attempt or 0)
        final = entry.final or ack.final or attempts >= tries
    if (entry.status, entry.message, entry.attempts, entry.final) == (
        status,
        ack.message,
        attempts,
        final,
    ):
        return None
    return entry.model_copy(
        update={
            "status": status,
            "received_at": now,
            "message": ack.message,
            "attempts": attempts,
            "final": final,
        }
    )


class OutboxRecord(Document):
    # The stored `_id`: the event id itself for records written since it was (the relay's
    # batches are addressed by `_id`, a direct lookup on any engine), an ObjectId for older
    # ones. Never dumped.
    doc_id: Any = Field(default=None, alias="_id", exclude=True)
    event_id: str
    pubsub: str
    topic: str
    tenant_id: str
    payload: dict[str, Any]
    # Searchable attributes of the event (store, terminal, business date...), service-defined.
    keys: dict[str, Any] = Field(default_factory=dict)
    relay_status: RelayStatus = RelayStatus.PENDING
    attempts: int = 0
    next_attempt_at: datetime = Field(default_factory=utcnow)
    lease_owner: str | None = None
    lease_until: datetime | None = None
    lease_token: str | None = None  # one claim of a relay (several events leased at once)
    published_at: datetime | None = None
    publish_count: int = 0
    last_error: str | None = None
    status: DeliveryStatus = DeliveryStatus.PENDING
    consumers: list[ConsumerDelivery] = Field(default_factory=list)
    gave_up: bool = False
    given_up_at: datetime | None = None
    # When a replay last re-armed it (the give-up clock of OUTBOX_GIVE_UP_SECONDS restarts).
    rearmed_at: datetime | None = None
    # When the relay looks again at a published event not yet acknowledged by every consumer
    # (and publishes it again); None once nothing is awaited.
    recheck_at: datetime | None = None
    version: int = 0
    last_updated_at: datetime = Field(default_factory=utcnow)


class OutboxRepository(Repository[OutboxRecord]):
    collection_name = OUTBOX_COLLECTION
    document_type = OutboxRecord
    indexes = (
        index("event_id", unique=True),
        index("relay_status", "next_attempt_at"),
        index("relay_status", "lease_until"),
        index("relay_status", "recheck_at"),
        index("gave_up", "status", "created_at"),
        index("status", "published_at"),
        index("tenant_id", "-created_at"),
    )


def overall_status(
    current: DeliveryStatus, consumers: Iterable[ConsumerDelivery]
) -> DeliveryStatus:
    """All received ⇒ delivered; some received ⇒ partially delivered; all failed ⇒ failed."""
    states = [c.status for c in consumers]
    if not states:
        return current
    if all(s is ConsumerStatus.RECEIVED for s in states):
        return DeliveryStatus.DELIVERED
    if any(s is ConsumerStatus.RECEIVED for s in states):
        return DeliveryStatus.PARTIALLY_DELIVERED
    if all(s is ConsumerStatus.FAILED for s in states):
        return DeliveryStatus.FAILED
    return current


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_UNPUBLISHED = [RelayStatus.PENDING.value, RelayStatus.PUBLISHING.value]
# Published and still awaited: the relay keeps a `recheck_at` exactly while a consumer has
# not acknowledged (cleared once delivered, given up, or when the topic has no consumers).
_AWAITED = {"relay_status": RelayStatus.PUBLISHED.value, "recheck_at": {"$gte": _EPOCH}}


@dataclass(frozen=True, slots=True)
class Backlog:
    """What `/metrics` shows of an outbox (kugelpos_outbox_backlog, _oldest_..., _given_up)."""

    pending: int  # not published yet (waiting, retrying, or being published)
    unacknowledged: int  # published, at least one consumer has not acknowledged
    oldest_seconds: float  # age of the oldest event in either state; 0 when there is none
    given_up: int = 0  # no longer republished (relay status `given_up`)


def record_changes(
    current: OutboxRecord, consumers: list[ConsumerDelivery], *, replayed: bool, now: datetime
) -> dict[str, Any]:
    """The record-level fields that follow from its consumers' entries (besides the entries
    themselves): the overall status, whether to wait any longer (`recheck_at`), and the
    `given_up` state. Empty when nothing changes."""
    changes: dict[str, Any] = {}
    wanted = overall_status(current.status, consumers)
    if wanted is not current.status:
        changes["status"] = wanted.value
    given_up = current.relay_status is RelayStatus.GIVEN_UP
    if wanted is DeliveryStatus.DELIVERED:
        if current.recheck_at is not None or given_up:
            changes["recheck_at"] = None  # nothing left to wait for
        if given_up:
            changes.update(relay_status=RelayStatus.PUBLISHED.value, gave_up=False)
    elif replayed and (given_up or current.gave_up):
        # An operator replays it at a consumer: publish it again now (the consumers that
        # have it ignore the copy), and wait for acknowledgements as after a first publish.
        changes.update(
            relay_status=RelayStatus.PUBLISHED.value,
            recheck_at=now,
            gave_up=False,
            given_up_at=None,
            rearmed_at=now,
        )
    elif (
        not given_up
        and consumers
        and all(c.status is ConsumerStatus.RECEIVED or c.final for c in consumers)
    ):
        changes.update(relay_status=RelayStatus.GIVEN_UP.value, recheck_at=None, given_up_at=now)
    return changes


class Outbox:
    """Writes events and records acknowledgements. `consumers` maps a topic to the services
    expected to acknowledge it (a topic with none is done once published)."""

    def __init__(
        self,
        db: AsyncDatabase,
        *,
        pubsub: str = "pubsub",
        consumers: Mapping[str, Iterable[str]] | None = None,
        failed_tries: int = 5,
    ) -> None:
        """`failed_tries`: handler errors a consumer may report for an event before it counts
        as given up by that consumer (the consumers' EVENT_RETRY_TRIES)."""
        self.db = db
        self.pubsub = pubsub
        self.consumers = {topic: tuple(names) for topic, names in (consumers or {}).items()}
        self.failed_tries = max(1, failed_tries)
        self.collection = db[OUTBOX_COLLECTION]
        self._listeners: list[Callable[[list[OutboxRecord]], None]] = []
        self._recheck_listeners: list[Callable[[datetime], None]] = []
        # No lock around this process's outbox writes: MongoDB isolates a transaction itself,
        # and the embedded server runs each transaction alone (the launcher's gate). A process
        # lock here queued the relay's marks behind every bill at 10 tills (1.5 events/s
        # published against 12 bills/s).
        # The records the current attempt of `transaction` added (None outside one).
        self._added: ContextVar[list[OutboxRecord] | None] = ContextVar(
            f"outbox-added-{id(self)}", default=None
        )
        # (owner, lease) of the relay in this process that publishes new events itself.
        self._direct: tuple[str, timedelta] | None = None

    def expects_acks_for(self, topic: str | None) -> bool:
        """Could an acknowledgement of `topic` be about one of this outbox's events? Unknown
        (an ack without a topic, or an outbox told of no consumers): yes, look it up."""
        return topic is None or not self.consumers or topic in self.consumers

    async def transaction[R](
        self, mongo: Mongo, work: Callable[[AsyncClientSession], Awaitable[R]]
    ) -> R:
        """Run a transaction that adds events; hand them to the relay once it committed.

        The events of the attempt that committed (`in_transaction` may run `work` again after
        a conflict) go straight to this process's relay, which publishes them without looking
        them up: they were written already leased to it (see `publish_directly`)."""
        added: list[OutboxRecord] = []

        async def attempt(session: AsyncClientSession) -> R:
            added.clear()
            token = self._added.set(added)
            try:
                return await work(session)
            finally:
                self._added.reset(token)

        result = await mongo.in_transaction(attempt)
        self.notify_added(added)
        return result

    async def ensure_indexes(self) -> None:
        await OutboxRepository.ensure_indexes(self.db)

    def on_added(self, callback: Callable[[list[OutboxRecord]], None]) -> None:
        """Register a callable run by `notify_added` with the committed records (the relay)."""
        self._listeners.append(callback)

    def on_recheck(self, callback: Callable[[datetime], None]) -> None:
        """Register a callable told when a recheck was set outside the relay (a replay)."""
        self._recheck_listeners.append(callback)

    def _rechecked(self, at: datetime) -> None:
        for callback in self._recheck_listeners:
            callback(at)

    def notify_added(self, records: list[OutboxRecord] | None = None) -> None:
        """Call after the transaction that added events committed: the relay starts at once,
        on `records` if given (written by `transaction`), else on whatever is due."""
        for callback in self._listeners:
            callback(list(records or ()))

    def publish_directly(self, owner: str | None, lease_seconds: float = 0.0) -> None:
        """Events added inside `transaction` are written leased to relay `owner` for
        `lease_seconds`: it publishes them as soon as they commit, and no relay claims them
        meanwhile; if it never does (the process died), the lease runs out and any relay
        takes them over. None: written pending, for whichever relay claims them first."""
        self._direct = (owner, timedelta(seconds=lease_seconds)) if owner else None

    async def add(
        self,
        session: AsyncClientSession | None,
        *,
        topic: str,
        payload: Mapping[str, Any],
        tenant_id: str,
        event_id: str | None = None,
        keys: Mapping[str, Any] | None = None,
        actor: str | None = None,
    ) -> OutboxRecord:
        """Insert within `session`'s transaction. `payload` must be JSON-ready; its `event_id`
        is set to the record's, so consumers can de-duplicate."""
        event_id = event_id or str(payload.get("event_id") or uuid.uuid4())
        record = OutboxRecord(
            event_id=event_id,
            pubsub=self.pubsub,
            topic=topic,
            tenant_id=tenant_id,
            payload={**payload, "event_id": event_id},
            keys=dict(keys or {}),
            consumers=[ConsumerDelivery(service_name=n) for n in self.consumers.get(topic, ())],
            created_by=actor,
        )
        added = self._added.get()
        if added is not None and self._direct is not None:
            owner, lease = self._direct
            record.relay_status = RelayStatus.PUBLISHING
            record.lease_owner = owner
            record.lease_until = record.created_at + lease
        await self.collection.insert_one({"_id": event_id, **record.to_mongo()}, session=session)
        record.doc_id = event_id
        if added is not None:
            added.append(record)
        return record

    async def backlog(self, now: datetime | None = None) -> Backlog:
        """Two indexed counts and, only when something is outstanding, one indexed read of the
        oldest: cheap whatever the history, so `/metrics` can ask every few seconds.

        The outbox is one collection in the service's commons database (not per tenant), so
        this covers every tenant. The oldest comes from the (gave_up, status, created_at)
        index in creation order; the `$or` only skips published events of a topic nobody
        acknowledges (status `published` forever), which a configuration with consumers for
        every topic never has."""
        now = now or utcnow()
        pending = await self.collection.count_documents({"relay_status": {"$in": _UNPUBLISHED}})
        awaited = await self.collection.count_documents(_AWAITED)
        given_up = await self.collection.count_documents(
            {"relay_status": RelayStatus.GIVEN_UP.value}
        )
        seconds = 0.0
        if pending or awaited:
            raw = await self.collection.find_one(
                {
                    "gave_up": False,
                    "status": {"$in": [DeliveryStatus.PENDING.value, *AWAITING_ACK]},
                    "$or": [
                        {"relay_status": {"$in": _UNPUBLISHED}},
                        {"recheck_at": {"$gte": _EPOCH}},
                    ],
                },
                {"_id": False, "created_at": True},
                sort=[("created_at", 1)],
            )
            if raw is not None and isinstance(raw.get("created_at"), datetime):
                seconds = max(0.0, (now - _as_utc(raw["created_at"])).total_seconds())
        return Backlog(
            pending=pending, unacknowledged=awaited, oldest_seconds=seconds, given_up=given_up
        )

    async def get(self, event_id: str) -> OutboxRecord | None:
        # By `event_id` (unique index), which every record has: one read also for the other
        # publishers' events this one hears acknowledged, and for records written before the
        # `_id` was the event id. Writes then address the record by its `_id`.
        raw = await self.collection.find_one({"event_id": event_id})
        return None if raw is None else OutboxRecord.model_validate(raw)

    async def acknowledge(
        self,
        event_id: str,
        service: str,
        status: ConsumerStatus | str,
        message: str | None = None,
        *,
        attempt: int | None = None,
        final: bool = False,
        replay: bool = False,
    ) -> OutboxRecord | None:
        """Record one consumer's outcome; returns the record, or None for an unknown event.

        A consumer that already received the event stays `received` (a late failure report of
        a redelivery changes nothing). An unknown consumer name changes nothing. See
        `next_entry` and `record_changes` for the rest (given up, re-armed by a replay).
        """
        ack = AckOutcome(event_id, service, status, message, attempt, final, replay)
        # Every publisher hears every consumer's acknowledgement of every event (its own and
        # the other publishers'), and each redelivery is acknowledged again: most change
        # nothing. Settling those with a read writes nothing (under a consumer outage every
        # redelivery's ack wrote, and the event lag grew to tens of seconds) and keeps the
        # first `received_at`. The others are one write: the consumer's entry and the overall
        # status together, conditional on the version read (a concurrent ack or relay mark
        # makes it read again).
        for _ in range(_MAX_STATUS_TRIES):
            current = await self.get(event_id)
            if current is None:
                return None
            position = next(
                (i for i, c in enumerate(current.consumers) if c.service_name == service), None
            )
            now = utcnow()
            entry = (
                None
                if position is None
                else next_entry(current.consumers[position], ack, self.failed_tries, now)
            )
            if entry is None:
                return await self._settle(current)
            consumers = list(current.consumers)
            consumers[position] = entry  # type: ignore[index]
            changes: dict[str, Any] = {
                f"consumers.{position}": entry.model_dump(mode="python"),
                "last_updated_at": now,
                **record_changes(current, consumers, replayed=ack.replay, now=now),
            }
            raw = await self.collection.find_one_and_update(
                {"_id": current.doc_id, "version": current.version},
                {"$set": changes, "$inc": {"version": 1}},
                return_document=ReturnDocument.AFTER,
            )
            if raw is not None:
                record = OutboxRecord.model_validate(raw)
                self._after_change(current, record)
                return record
        return await self.get(event_id)

    async def acknowledge_many(
        self, acks: Iterable[AckOutcome | tuple[str, str, ConsumerStatus | str, str | None]]
    ) -> dict[str, OutboxRecord]:
        """Several outcomes with one read and one bulk write, by the rules of `acknowledge`;
        returns the records they touched, by event id (events that are not this outbox's are
        left out). Every acknowledgement of every event is a write to the outbox at its
        publisher, three per sale: one at a time they were half of the cart's commands. A
        record another writer changed meanwhile (its version moved) takes the one-at-a-time
        path. Outcomes (`AckOutcome`, or the tuple (event id, consumer, status, message)) are
        applied in the order given."""
        grouped: dict[str, list[AckOutcome]] = {}
        for item in acks:
            ack = AckOutcome.of(item)
            grouped.setdefault(ack.event_id, []).append(ack)
        found = await self.collection.find({"event_id": {"$in": list(grouped)}}).to_list()
        records = {raw["event_id"]: OutboxRecord.model_validate(raw) for raw in found}
        now = utcnow()
        operations: list[UpdateOne] = []
        written: list[str] = []
        before: dict[str, OutboxRecord] = {}
        for event_id, outcomes in grouped.items():
            current = records.get(event_id)
            if current is None:
                continue
            consumers = list(current.consumers)
            changes: dict[str, Any] = {}
            for ack in outcomes:
                position = next(
                    (i for i, c in enumerate(consumers) if c.service_name == ack.service), None
                )
                if position is None:
                    continue
                entry = next_entry(consumers[position], ack, self.failed_tries, now)
                if entry is None:
                    continue
                consumers[position] = entry
                changes[f"consumers.{position}"] = entry.model_dump(mode="python")
            replayed = any(ack.replay for ack in outcomes)
            changes.update(record_changes(current, consumers, replayed=replayed, now=now))
            if not changes:
                continue  # nothing new: settled by the read
            if any(key.startswith("consumers.") for key in changes):
                changes["last_updated_at"] = now
            operations.append(
                UpdateOne(
                    {"_id": current.doc_id, "version": current.version},
                    {"$set": changes, "$inc": {"version": 1}},
                )
            )
            written.append(event_id)
            before[event_id] = current
            updated = OutboxRecord.model_validate(
                {
                    **current.model_dump(mode="python"),
                    **{k: v for k, v in changes.items() if not k.startswith("consumers.")},
                    "consumers": [c.model_dump(mode="python") for c in consumers],
                    "version": current.version + 1,
                }
            )
            updated.doc_id = current.doc_id
            records[event_id] = updated
        if operations:
            result = await self.collection.bulk_write(operations, ordered=False)
            if result.matched_count < len(operations):
                for event_id in written:  # which ones missed is not told: redo each (idempotent)
                    for ack in grouped[event_id]:
                        updated = await self.acknowledge(
                            ack.event_id,
                            ack.service,
                            ack.status,
                            ack.message,
                            attempt=ack.attempt,
                            final=ack.final,
                            replay=ack.replay,
                        )
                        if updated is not None:
                            records[event_id] = updated
            else:
                for event_id in written:
                    self._after_change(before[event_id], records[event_id])
        return records

    def _after_change(self, before: OutboxRecord, after: OutboxRecord) -> None:
        """Tell the relay of a recheck a replay set; log an event given up."""
        if after.relay_status is RelayStatus.GIVEN_UP and before.relay_status is not (
            RelayStatus.GIVEN_UP
        ):
            log.warning(
                "outbox_given_up",
                event_id=after.event_id,
                topic=after.topic,
                consumers={c.service_name: c.status.value for c in after.consumers},
            )
        if after.rearmed_at is not None and after.rearmed_at != before.rearmed_at:
            log.info("outbox_rearmed", event_id=after.event_id, topic=after.topic)
            if after.recheck_at is not None:
                self._rechecked(after.recheck_at)

    async def _settle(self, record: OutboxRecord) -> OutboxRecord:
        """Recompute the overall status; optimistic on `version` so concurrent acks agree."""
        for _ in range(_MAX_STATUS_TRIES):
            wanted = overall_status(record.status, record.consumers)
            if wanted is record.status:
                return record
            changes: dict[str, Any] = {"status": wanted.value}
            if wanted is DeliveryStatus.DELIVERED:
                changes["recheck_at"] = None  # nothing left to wait for
                if record.relay_status is RelayStatus.GIVEN_UP:
                    changes.update(relay_status=RelayStatus.PUBLISHED.value, gave_up=False)
            raw = await self.collection.find_one_and_update(
                {"_id": record.doc_id, "version": record.version},
                {"$set": changes, "$inc": {"version": 1}},
                return_document=ReturnDocument.AFTER,
            )
            if raw is not None:
                return OutboxRecord.model_validate(raw)
            latest = await self.get(record.event_id)
            if latest is None:
                break
            record = latest
        return record


def _as_utc(moment: datetime) -> datetime:
    # A client without tz_aware=True reads naive datetimes; stored times are UTC.
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
