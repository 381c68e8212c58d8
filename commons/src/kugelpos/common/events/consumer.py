"""The consuming side of events: at-least-once delivery in, exactly-once effect out.

    consumer = EventConsumer("journal", repositories=[JournalRepository, ...])

    @consumer.consume(TOPIC_TRANLOG, TransactionLog, route="/api/v1/tranlog")
    async def on_tranlog(delivery: Delivery[TransactionLog]) -> None:
        await JournalRepository(delivery.db).collection.insert_one(..., session=delivery.session)

    create_app(..., routers=[consumer.subscriptions.router()], on_startup=[consumer.start])

For every delivery, in order:
1. Health probes, messages without `tenant_id` or `event_id`, and bad tenant ids: DROP (Dapr
   never redelivers them). A payload that does not validate: `failed` acknowledgement, DROP.
2. One MongoDB transaction: the inbox record (`processed_events`, unique on event id and on the
   log's natural key) first, then the handler's writes. A conflicting writer is retried by
   `Mongo.in_transaction`; a unique-key violation means the event (or the same log under
   another id) was applied already: the transaction is dropped before the handler runs, so a
   redelivery costs one failed insert (no read ahead of every first delivery).
3. After commit, applied or duplicate alike: `received` on `tranlog_status`, so a lost
   acknowledgement heals on the next delivery. If that publish fails: RETRY.
A database that is down or any other fault: `failed` acknowledgement (best effort) and RETRY.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import structlog
from pydantic import ValidationError
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError, PyMongoError

from ..db.mongo import validate_tenant_id
from ..db.repository import Repository
from ..db.tenants import ensure_collections
from ..errors import AlreadyExistsError, AppError, BadRequestError
from ..observability.metrics import event_age_seconds
from ..web.app import Infrastructure
from .acks import Acknowledgement, publish_acknowledgement
from .inbox import PROCESSED_EVENTS, InboxRepository, ProcessedEvent
from .logs import InboundLog
from .subscriptions import CloudEvent, DaprSubscriptions, Outcome

log = structlog.get_logger(__name__)

HEALTH_PROBE = "health-check"


class Applied(StrEnum):
    NEW = "applied"
    DUPLICATE = "duplicate"


class EventRejected(Exception):
    """Raised by a handler for an event that can never be applied (DROP, `failed` ack)."""


@dataclass(frozen=True, slots=True)
class Delivery[M: InboundLog]:
    """One event being applied: the handler writes through `session` into `db`."""

    event_id: str
    topic: str
    tenant_id: str
    log: M
    db: AsyncDatabase
    session: AsyncClientSession


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
    ) -> None:
        self.service = service
        self.pubsub = pubsub
        self.repositories: tuple[type[Repository], ...] = (InboxRepository, *repositories)
        self.subscriptions = DaprSubscriptions(pubsub=pubsub)
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

            self.subscriptions.add(topic, on_event, route=route)
            return handler

        return register

    async def start(self, infra: Infrastructure) -> None:
        self._infra = infra

    @property
    def infra(self) -> Infrastructure:
        if self._infra is None:
            raise RuntimeError("EventConsumer not started (add consumer.start to on_startup)")
        return self._infra

    # ---- applying --------------------------------------------------------------------------

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
        together, or nothing does. Also used by direct intake endpoints (no delivery).
        Counted in `kugelpos_events_consumed_total` (applied / duplicate) and, when applied,
        its age in `kugelpos_event_age_seconds` (`published_at`: the CloudEvent `time`)."""
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
        record = ProcessedEvent(
            event_id=event_id, topic=topic, natural_key=f"{topic}:{log_.natural_key()}"
        ).to_mongo()

        async def work(session: AsyncClientSession) -> None:
            await inbox.insert_one(dict(record), session=session)
            delivery = Delivery(event_id, topic, log_.tenant_id, log_, db, session)
            await consumption.handler(delivery)

        try:
            await self.infra.mongo.in_transaction(work)
        except DuplicateKeyError:
            return Applied.DUPLICATE
        except AlreadyExistsError as exc:  # a repository's wrapping of the same violation
            if isinstance(exc.__cause__, DuplicateKeyError):
                return Applied.DUPLICATE
            raise
        return Applied.NEW

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
            await self._acknowledge(topic, event_id, "failed", f"invalid payload: {reason}")
            return Outcome.DROP
        try:
            applied = await self.apply(
                topic, log_, event_id=event_id, published_at=event.attributes.get("time")
            )
        except EventRejected as exc:
            log.warning("event_rejected", topic=topic, event_id=event_id, reason=str(exc))
            metrics.event(topic, "rejected")
            await self._acknowledge(topic, event_id, "failed", str(exc)[:500])
            return Outcome.DROP
        except (PyMongoError, AppError) as exc:
            log.warning("event_retry", topic=topic, event_id=event_id, error=type(exc).__name__)
            metrics.event(topic, "retry")
            await self._acknowledge(topic, event_id, "failed", f"{type(exc).__name__}; will retry")
            return Outcome.RETRY
        except Exception as exc:  # a bug: keep the event, it is redelivered after the fix
            log.error("event_failed", topic=topic, event_id=event_id, exc_info=exc)
            metrics.event(topic, "error")
            await self._acknowledge(topic, event_id, "failed", f"{type(exc).__name__}; will retry")
            return Outcome.RETRY
        log.info("event_consumed", topic=topic, event_id=event_id, result=applied.value)
        if not await self._acknowledge(topic, event_id, "received"):
            return Outcome.RETRY  # applied; the redelivery is a duplicate that acks again
        return Outcome.SUCCESS

    async def _acknowledge(
        self, topic: str, event_id: str, status: str, message: str | None = None
    ) -> bool:
        ack = Acknowledgement(
            event_id=event_id,
            topic=topic,
            service=self.service,
            status=status,
            message=message[:1000] if message else None,
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
