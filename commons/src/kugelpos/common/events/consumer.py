"""The consuming side of events: at-least-once delivery in, exactly-once effect out.

    consumer = EventConsumer("journal", repositories=[JournalRepository, ...])

    @consumer.consume(TOPIC_TRANLOG, TransactionLog, route="/api/v1/tranlog")
    async def on_tranlog(delivery: Delivery[TransactionLog]) -> None:
        await JournalRepository(delivery.db).collection.insert_one(..., session=delivery.session)

    create_app(..., routers=[consumer.subscriptions.router()], on_startup=[consumer.start])

For every delivery, in order:
1. Health probes, messages without `tenant_id` or `event_id`, and bad tenant ids: DROP (Dapr
   never redelivers them). A payload that does not validate: `failed` acknowledgement, DROP.
2. An event whose handler failed in this process and whose next try is not due yet: RETRY,
   nothing else (no read, no acknowledgement); one that is a dead letter here: SUCCESS and its
   `failed` acknowledgement again (see `dead_letters`).
3. One MongoDB transaction: the inbox record (`processed_events`, unique on event id and on the
   log's natural key, with a digest of the log's content) first, then the handler's writes. A
   conflicting writer is retried by `Mongo.in_transaction`; a unique-key violation means the
   event (or the same log under another id) was applied already: the transaction is dropped
   before the handler runs, so a redelivery costs one failed insert and one read of the record
   in the way (no read ahead of every first delivery). The same natural key with other content
   is refused (`EventConflict`: `rejected`, a warning naming both event ids, DROP). A handler
   that finds nothing to apply says so (`Delivery.drop`): the inbox record still commits, so a
   redelivery stays a duplicate, and the event counts as `dropped`.
4. After commit, applied, dropped or duplicate alike: `received` on `tranlog_status`, so a lost
   acknowledgement heals on the next delivery. If that publish fails: RETRY.
A database or dependency that is down (`PyMongoError`, `AppError`): `failed` acknowledgement
(best effort) and RETRY, for as long as it lasts. Any other exception is a bug: counted per
event id (`dead_letters`), retried with backoff `event_retry_tries` times, then kept as a dead
letter: DROP (to the subscription's `deadLetterTopic`), `dead_letter` in the metrics, and a
final `failed` acknowledgement that stops the publisher's republishing. `replay` applies a
dead letter once the bug is fixed.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import structlog
from pydantic import ValidationError
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError, PyMongoError

from ..clock import utcnow
from ..db.mongo import validate_tenant_id
from ..db.repository import Repository
from ..db.tenants import ensure_collections
from ..errors import AlreadyExistsError, AppError, BadRequestError, NotFoundError
from ..infrastructure import Infrastructure
from ..observability.metrics import event_age_seconds
from ..pagination import Page, PageParams
from .acks import Acknowledgement, publish_acknowledgement
from .dead_letters import (
    DEAD_LETTERS,
    DONE_STATES,
    OPEN_STATES,
    DeadLetter,
    DeadLetterRepository,
    DeadLetterState,
    ParkedEvents,
    RetryPolicy,
    record_failure,
)
from .inbox import PROCESSED_EVENTS, InboxRepository, ProcessedEvent, content_digest
from .logs import LOG_TOPICS, InboundLog
from .subscriptions import CloudEvent, DaprSubscriptions, Outcome

log = structlog.get_logger(__name__)

HEALTH_PROBE = "health-check"
_OPEN = [state.value for state in OPEN_STATES]


class Applied(StrEnum):
    NEW = "applied"
    DUPLICATE = "duplicate"
    DROPPED = "dropped"  # recorded in the inbox; the handler had nothing to apply


class EventRejected(Exception):
    """Raised by a handler for an event that can never be applied (DROP, `failed` ack)."""


class EventConflict(EventRejected):
    """The log's natural key was applied already, under another event id and with other
    content: a second, different log claims the same record (e.g. a forged return with the
    number of a real sale). Refused, never taken for a duplicate of the first."""

    def __init__(self, natural_key: str, existing_event_id: str) -> None:
        super().__init__(
            f"{natural_key} was received already, with other content, as event {existing_event_id}"
        )
        self.natural_key = natural_key
        self.existing_event_id = existing_event_id


@dataclass(slots=True)
class _Verdict:
    dropped: str | None = None


@dataclass(frozen=True, slots=True)
class Delivery[M: InboundLog]:
    """One event being applied: the handler writes through `session` into `db`."""

    event_id: str
    topic: str
    tenant_id: str
    log: M
    db: AsyncDatabase
    session: AsyncClientSession
    _verdict: _Verdict = field(default_factory=_Verdict, repr=False)

    def drop(self, reason: str) -> None:
        """Nothing in this log concerns the handler (stock and a cancelled sale): nothing is
        written but the inbox record, which still commits (a redelivery stays a duplicate),
        and the event counts as `dropped`."""
        self._verdict.dropped = reason

    @property
    def dropped(self) -> str | None:
        return self._verdict.dropped


@dataclass(frozen=True, slots=True)
class ReplayResult:
    """What one replay did. `outcome`: applied, duplicate, dropped (the event is now in the
    inbox), already_replayed (nothing done), rejected, or failed (the handler still fails)."""

    event_id: str
    topic: str
    outcome: str
    state: DeadLetterState
    message: str | None = None


type Handler[M: InboundLog] = Callable[[Delivery[M]], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class _Consumption:
    topic: str
    model: type[InboundLog]
    handler: Handler[Any]


class EventConsumer:
    """One per consuming service. `repositories` are the collections its handlers write, so
    their indexes exist (with the inbox's) before a tenant's first event is applied."""

    def __init__(
        self,
        service: str,
        *,
        pubsub: str = "pubsub",
        repositories: Sequence[type[Repository]] = (),
        retry: RetryPolicy | None = None,
        dead_letter_topic: str | None = "",
    ) -> None:
        """`retry`: None reads `event_retry_tries` / `event_retry_base_seconds` from the
        settings at start. `dead_letter_topic`: where Dapr moves what this consumer drops
        (default `<service>_dead_letters`; None declares none)."""
        self.service = service
        self.pubsub = pubsub
        self.repositories: tuple[type[Repository], ...] = (
            InboxRepository,
            DeadLetterRepository,
            *repositories,
        )
        self.subscriptions = DaprSubscriptions(pubsub=pubsub)
        self.dead_letter_topic = (
            f"{service}_dead_letters" if dead_letter_topic == "" else dead_letter_topic
        )
        self.retry = retry or RetryPolicy()
        self._retry_given = retry is not None
        self.parked = ParkedEvents()
        self._topics: dict[str, _Consumption] = {}
        self._ready: set[str] = set()  # tenant databases whose indexes this process ensured
        self._infra: Infrastructure | None = None

    # ---- declaring -------------------------------------------------------------------------

    def consume[M: InboundLog](
        self, topic: str, model: type[M], *, route: str | None = None
    ) -> Callable[[Handler[M]], Handler[M]]:
        def register(handler: Handler[M]) -> Handler[M]:
            consumption = _Consumption(topic, model, handler)
            self._topics[topic] = consumption

            async def on_event(event: CloudEvent) -> Outcome:
                return await self._on_event(consumption, event)

            self.subscriptions.add(
                topic, on_event, route=route, dead_letter_topic=self.dead_letter_topic
            )
            return handler

        return register

    def consume_logs(self, handler: Handler[InboundLog]) -> None:
        """`handler` for every log topic at its v1 route (`/api/v1/tranlog`, `/cashlog`,
        `/opencloselog`), for a service that takes every log (journal, report)."""
        for topic, model, route in LOG_TOPICS:
            self.consume(topic, model, route=route)(handler)

    async def start(self, infra: Infrastructure) -> None:
        self._infra = infra
        if not self._retry_given:
            self.retry = RetryPolicy.from_settings(infra.settings)

    @property
    def infra(self) -> Infrastructure:
        if self._infra is None:
            raise RuntimeError("EventConsumer not started (add consumer.start to on_startup)")
        return self._infra

    # ---- applying --------------------------------------------------------------------------

    async def setup_tenant(self, tenant_id: str) -> None:
        """Tenant set-up (`POST /api/v1/tenants`): the collections and indexes of the inbox,
        the dead letters and the handlers' repositories, made now (idempotent) rather than
        before the tenant's first event."""
        db = self.infra.mongo.tenant_db(tenant_id)
        await ensure_collections(db, self.repositories)
        self._ready.add(db.name)

    async def ensure_tenant(self, tenant_id: str) -> AsyncDatabase:
        """The tenant's database with the consumer's indexes (created once per process)."""
        db = self.infra.mongo.tenant_db(tenant_id)
        if db.name not in self._ready:
            await ensure_collections(db, self.repositories)
            self._ready.add(db.name)
        return db

    async def apply(
        self, topic: str, log_: InboundLog, *, event_id: str, published_at: Any = None
    ) -> Applied:
        """Apply one log exactly once: the handler's writes and the inbox record commit
        together, or nothing does. Also used by direct intake endpoints (no delivery) and
        replays. Counted in `kugelpos_events_consumed_total` (applied / duplicate / dropped)
        and, when applied, its age in `kugelpos_event_age_seconds` (`published_at`: the
        CloudEvent `time`). Raises `EventConflict` for another log under a natural key
        already applied."""
        applied = await self._apply(topic, log_, event_id=event_id)
        age = None
        if applied is Applied.NEW:
            age = event_age_seconds(log_.generate_date_time, published_at)
        self.infra.metrics.event(topic, applied.value, age)
        return applied

    async def _apply(self, topic: str, log_: InboundLog, *, event_id: str) -> Applied:
        consumption = self._topics[topic]
        db = await self.ensure_tenant(log_.tenant_id)
        inbox = db[PROCESSED_EVENTS]
        natural_key = f"{topic}:{log_.natural_key()}"
        digest = content_digest(log_)
        record = ProcessedEvent(
            event_id=event_id, topic=topic, natural_key=natural_key, digest=digest
        ).to_mongo()
        dropped: str | None = None

        async def work(session: AsyncClientSession) -> None:
            nonlocal dropped
            await inbox.insert_one(dict(record), session=session)
            delivery = Delivery(event_id, topic, log_.tenant_id, log_, db, session)
            await consumption.handler(delivery)
            dropped = delivery.dropped

        try:
            await self.infra.mongo.in_transaction(work)
        except DuplicateKeyError:
            return await self._already_there(db, event_id, natural_key, digest)
        except AlreadyExistsError as exc:  # a repository's wrapping of the same violation
            if isinstance(exc.__cause__, DuplicateKeyError):
                return await self._already_there(db, event_id, natural_key, digest)
            raise
        if dropped is not None:
            log.info("event_dropped_by_handler", topic=topic, event_id=event_id, reason=dropped)
            return Applied.DROPPED
        return Applied.NEW

    async def _already_there(
        self, db: AsyncDatabase, event_id: str, natural_key: str, digest: str
    ) -> Applied:
        """The unique insert failed: a duplicate (the same event id, or the same content
        under another id), or another log under the same natural key (EventConflict). One
        read, on this path only."""
        found = (
            await db[PROCESSED_EVENTS]
            .find(
                {"$or": [{"event_id": event_id}, {"natural_key": natural_key}]},
                {"_id": False, "event_id": True, "digest": True},
            )
            .to_list()
        )
        if not found or any(r.get("event_id") == event_id for r in found):
            return Applied.DUPLICATE  # no record in the way: a handler's own unique index
        existing = found[0]
        if existing.get("digest") in (None, digest):
            return Applied.DUPLICATE
        raise EventConflict(natural_key, str(existing.get("event_id")))

    async def _on_event(self, consumption: _Consumption, event: CloudEvent) -> Outcome:
        topic = consumption.topic
        metrics = self.infra.metrics
        data = event.data
        if not isinstance(data, dict) or data.get("test") == HEALTH_PROBE:
            log.info("event_dropped", topic=topic, reason="not a log (health probe or empty)")
            metrics.event(topic, "dropped")
            return Outcome.DROP
        tenant_id, event_id = data.get("tenant_id"), data.get("event_id")
        if not (isinstance(tenant_id, str) and tenant_id and isinstance(event_id, str)):
            log.warning("event_dropped", topic=topic, reason="tenant_id or event_id missing")
            metrics.event(topic, "dropped")
            return Outcome.DROP
        if not event_id or len(event_id) > 128:
            log.warning("event_dropped", topic=topic, reason="event_id empty or too long")
            metrics.event(topic, "dropped")
            return Outcome.DROP
        try:
            validate_tenant_id(tenant_id)
            log_ = consumption.model.model_validate(data)
        except (ValidationError, BadRequestError) as exc:
            reason = _reason(exc)
            log.warning("event_dropped", topic=topic, event_id=event_id, reason=reason)
            metrics.event(topic, "dropped")
            await self._acknowledge(
                topic, event_id, "failed", f"invalid payload: {reason}", final=True
            )
            return Outcome.DROP
        match self.parked.check(event_id):
            case "wait":  # its handler failed here; the next try is not due yet
                return Outcome.RETRY
            case "dead":  # a copy of a dead letter (a republish already on its way)
                # Counted once as dead_letter (when it became one): a copy is a duplicate.
                metrics.event(topic, "duplicate")
                await self._acknowledge(
                    topic, event_id, "failed", "dead letter: waits for a replay", final=True
                )
                return Outcome.SUCCESS
        try:
            applied = await self.apply(
                topic, log_, event_id=event_id, published_at=event.attributes.get("time")
            )
        except EventConflict as exc:
            log.warning(
                "event_conflict",
                topic=topic,
                event_id=event_id,
                existing_event_id=exc.existing_event_id,
                natural_key=exc.natural_key,
            )
            metrics.event(topic, "rejected")
            await self._acknowledge(topic, event_id, "failed", str(exc)[:500], final=True)
            return Outcome.DROP
        except EventRejected as exc:
            log.warning("event_rejected", topic=topic, event_id=event_id, reason=str(exc))
            metrics.event(topic, "rejected")
            await self._acknowledge(topic, event_id, "failed", str(exc)[:500], final=True)
            return Outcome.DROP
        except (PyMongoError, AppError) as exc:
            log.warning("event_retry", topic=topic, event_id=event_id, error=type(exc).__name__)
            metrics.event(topic, "retry")
            await self._acknowledge(topic, event_id, "failed", f"{type(exc).__name__}; will retry")
            return Outcome.RETRY
        except Exception as exc:  # a bug: bounded tries, then a dead letter
            return await self._handler_failed(topic, log_, event_id, data, exc)
        if self.parked.forget(event_id):  # it failed here before: the fault went away
            await self._resolved(log_.tenant_id, event_id)
        log.info("event_consumed", topic=topic, event_id=event_id, result=applied.value)
        if not await self._acknowledge(topic, event_id, "received"):
            return Outcome.RETRY  # applied; the redelivery is a duplicate that acks again
        return Outcome.SUCCESS

    async def _handler_failed(
        self,
        topic: str,
        log_: InboundLog,
        event_id: str,
        data: dict[str, Any],
        exc: Exception,
    ) -> Outcome:
        metrics = self.infra.metrics
        error = f"{type(exc).__name__}: {exc}"
        log.error("event_failed", topic=topic, event_id=event_id, exc_info=exc)
        try:
            failure = await record_failure(
                self.infra.mongo.tenant_db(log_.tenant_id),
                event_id=event_id,
                tenant_id=log_.tenant_id,
                topic=topic,
                natural_key=f"{topic}:{log_.natural_key()}",
                payload=data,
                error=error,
                policy=self.retry,
            )
        except (PyMongoError, AppError) as db_exc:  # cannot count it: retry, as an outage
            log.warning("event_failure_not_counted", event_id=event_id, error=type(db_exc).__name__)
            metrics.event(topic, "error")
            await self._acknowledge(topic, event_id, "failed", f"{type(exc).__name__}; will retry")
            return Outcome.RETRY
        letter = failure.letter
        if letter.state is DeadLetterState.DEAD:
            self.parked.bury(event_id)
            if failure.newly_dead:
                log.error(
                    "event_dead_lettered",
                    topic=topic,
                    event_id=event_id,
                    tenant_id=log_.tenant_id,
                    attempts=letter.attempts,
                    error=type(exc).__name__,
                    dead_letter_topic=self.dead_letter_topic,
                )
            # Once per dead letter (the alert counts them); a later copy that failed again on
            # a replica that did not know it (another process) is one more error.
            metrics.event(topic, "dead_letter" if failure.newly_dead else "error")
            await self._acknowledge(
                topic,
                event_id,
                "failed",
                f"dead letter after {letter.attempts} tries: {type(exc).__name__}",
                attempt=letter.attempts,
                final=True,
            )
            return Outcome.DROP
        delay = self.retry.delay_after(letter.attempts)
        self.parked.park(event_id, delay)
        metrics.event(topic, "error")
        await self._acknowledge(
            topic,
            event_id,
            "failed",
            f"{type(exc).__name__}; try {letter.attempts} of {self.retry.tries}",
            attempt=letter.attempts,
        )
        return Outcome.RETRY

    async def _resolved(self, tenant_id: str, event_id: str) -> None:
        """A parked event applied after all: its dead letter is done (best effort)."""
        try:
            db = self.infra.mongo.tenant_db(tenant_id)
            await db[DEAD_LETTERS].update_one(
                {"_id": event_id, "state": {"$in": _OPEN}},
                {"$set": {"state": DeadLetterState.RESOLVED.value, "next_attempt_at": None}},
            )
        except PyMongoError as exc:
            log.warning("dead_letter_not_resolved", event_id=event_id, error=type(exc).__name__)

    # ---- dead letters: what an operator sees and replays -------------------------------------

    async def dead_letters(
        self, tenant_id: str, params: PageParams, *, states: Sequence[DeadLetterState] = ()
    ) -> Page[DeadLetter]:
        """A page of the tenant's dead letters, oldest first (`states`: those only). Open ones
        applied since by a later delivery are marked `resolved` on the way."""
        db = await self.ensure_tenant(tenant_id)
        repo = DeadLetterRepository(db)
        filter_: dict[str, Any] = {"tenant_id": tenant_id}
        if states:
            filter_["state"] = {"$in": [s.value for s in states]}
        total = await repo.collection.count_documents(filter_)
        cursor = repo.collection.find(filter_, {"_id": False}).sort("first_failed_at", 1)
        if params.limit:
            cursor = cursor.skip(params.skip).limit(params.limit)
        letters = [DeadLetter.model_validate(raw) for raw in await cursor.to_list()]
        open_ids = [x.event_id for x in letters if x.state in OPEN_STATES]
        if open_ids:
            applied = {
                raw["event_id"]
                for raw in await db[PROCESSED_EVENTS]
                .find({"event_id": {"$in": open_ids}}, {"_id": False, "event_id": True})
                .to_list()
            }
            if applied:
                await repo.collection.update_many(
                    {
                        "_id": {"$in": list(applied)},
                        "state": {"$in": _OPEN},
                    },
                    {"$set": {"state": DeadLetterState.RESOLVED.value, "next_attempt_at": None}},
                )
                letters = [
                    x.model_copy(update={"state": DeadLetterState.RESOLVED})
                    if x.event_id in applied
                    else x
                    for x in letters
                ]
        return Page(letters, total, params)

    async def dead_letter(self, tenant_id: str, event_id: str) -> DeadLetter:
        db = await self.ensure_tenant(tenant_id)
        found = await DeadLetterRepository(db).find_one(
            {"event_id": event_id, "tenant_id": tenant_id}
        )
        if found is None:
            raise NotFoundError(f"No dead letter for event {event_id}")
        return found

    async def replay(self, tenant_id: str, event_id: str, *, actor: str | None) -> ReplayResult:
        """Apply a dead letter (once the bug is fixed): exactly once, through the inbox like
        any delivery; a second replay changes nothing. Its publisher is asked to publish it
        again too (`replay` acknowledgement: it had stopped, `given_up`), which is a
        duplicate here once this replay applied it, and makes sure its delivery status
        follows even if the `received` acknowledgement below is lost. A database or
        dependency fault raises (the letter stays as it was)."""
        letter = await self.dead_letter(tenant_id, event_id)
        topic = letter.topic
        if letter.state in DONE_STATES:
            await self._acknowledge(topic, event_id, "received")
            return ReplayResult(event_id, topic, "already_replayed", letter.state)
        consumption = self._topics.get(topic)
        if consumption is None:
            raise BadRequestError(f"This service does not consume {topic}")
        db = self.infra.mongo.tenant_db(tenant_id)
        self.parked.forget(event_id)
        await self._acknowledge(topic, event_id, "failed", "replay requested", replay=True)
        try:
            log_ = consumption.model.model_validate(letter.payload)
            applied = await self.apply(topic, log_, event_id=event_id)
        except (ValidationError, EventRejected) as exc:
            reason = _reason(exc) if isinstance(exc, ValidationError) else str(exc)
            log.warning("dead_letter_rejected", topic=topic, event_id=event_id, reason=reason)
            self.infra.metrics.event(topic, "rejected")
            await self._mark(db, event_id, DeadLetterState.REJECTED, "rejected", actor)
            await self._acknowledge(topic, event_id, "failed", reason[:500], final=True)
            return ReplayResult(event_id, topic, "rejected", DeadLetterState.REJECTED, reason)
        except (PyMongoError, AppError):
            raise
        except Exception as exc:  # still failing: it stays a dead letter, one more try counted
            log.error("dead_letter_replay_failed", topic=topic, event_id=event_id, exc_info=exc)
            error = f"{type(exc).__name__}: {exc}"
            await record_failure(
                db,
                event_id=event_id,
                tenant_id=tenant_id,
                topic=topic,
                natural_key=letter.natural_key,
                payload=letter.payload,
                error=error,
                policy=RetryPolicy(tries=1),
            )
            await self._mark(db, event_id, DeadLetterState.DEAD, "failed", actor)
            self.parked.bury(event_id)
            await self._acknowledge(
                topic, event_id, "failed", f"replay failed: {type(exc).__name__}", final=True
            )
            return ReplayResult(event_id, topic, "failed", DeadLetterState.DEAD, error[:500])
        await self._mark(db, event_id, DeadLetterState.REPLAYED, applied.value, actor)
        log.info("dead_letter_replayed", topic=topic, event_id=event_id, result=applied.value)
        await self._acknowledge(topic, event_id, "received")
        return ReplayResult(event_id, topic, applied.value, DeadLetterState.REPLAYED)

    async def replay_all(
        self, tenant_id: str, *, actor: str | None, limit: int = 100
    ) -> list[ReplayResult]:
        """Replay the tenant's open dead letters (retrying or dead), oldest first, at most
        `limit` per call."""
        db = await self.ensure_tenant(tenant_id)
        cursor = (
            db[DEAD_LETTERS]
            .find(
                {"tenant_id": tenant_id, "state": {"$in": _OPEN}},
                {"_id": False, "event_id": True},
            )
            .sort("first_failed_at", 1)
            .limit(limit)
        )
        ids = [raw["event_id"] for raw in await cursor.to_list()]
        return [await self.replay(tenant_id, event_id, actor=actor) for event_id in ids]

    async def _mark(
        self,
        db: AsyncDatabase,
        event_id: str,
        state: DeadLetterState,
        outcome: str,
        actor: str | None,
    ) -> None:
        now = utcnow()
        await db[DEAD_LETTERS].update_one(
            {"_id": event_id},
            {
                "$set": {
                    "state": state.value,
                    "next_attempt_at": None,
                    "replayed_at": now,
                    "replayed_by": actor,
                    "replay_outcome": outcome,
                    "updated_at": now,
                    "updated_by": actor,
                }
            },
        )

    async def _acknowledge(
        self,
        topic: str,
        event_id: str,
        status: str,
        message: str | None = None,
        *,
        attempt: int | None = None,
        final: bool | None = None,
        replay: bool | None = None,
    ) -> bool:
        ack = Acknowledgement(
            event_id=event_id,
            topic=topic,
            service=self.service,
            status=status,
            message=message[:1000] if message else None,
            attempt=attempt,
            final=final,
            replay=replay,
        )
        try:
            await publish_acknowledgement(self.infra.dapr, ack, pubsub=self.pubsub)
        except AppError as exc:
            log.warning("ack_not_published", event_id=event_id, status=status, error=exc.message)
            return False
        return True


def _reason(exc: Exception) -> str:
    """Which fields were wrong, never their values (a log may carry personal data)."""
    if isinstance(exc, ValidationError):
        parts = [
            f"{'.'.join(str(p) for p in error['loc']) or 'body'}: {error['msg']}"
            for error in exc.errors(include_url=False, include_input=False)[:5]
        ]
        return "; ".join(parts)
    return str(exc)
