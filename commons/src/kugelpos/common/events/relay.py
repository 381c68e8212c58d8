"""The outbox relay: publishes pending events through Dapr and marks them published.

Safe with several replicas and restarts: an event is claimed atomically
(`find_one_and_update`) with a lease, so one relay publishes it; a relay that dies mid-publish
leaves a lease that expires and another relay takes the event over (at-least-once; consumers
de-duplicate on `event_id`). A failed publish (sidecar or Redis down, circuit open) leaves the
event pending with a growing backoff: events are delayed, never lost. Events whose consumers
have not all acknowledged within `ack_timeout` are published again, until `give_up_after`.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from datetime import datetime, timedelta
from typing import Any

import structlog
from pymongo import ReturnDocument
from pymongo.errors import PyMongoError

from ..clients.dapr import DaprClientHelper
from ..clock import utcnow
from ..errors import AppError
from .outbox import DeliveryStatus, Outbox, OutboxRecord, RelayStatus

log = structlog.get_logger(__name__)
_PROJECTION = {"_id": False}
_STOP_GRACE_SECONDS = 10.0


class OutboxRelay:
    def __init__(
        self,
        outbox: Outbox,
        dapr: DaprClientHelper,
        *,
        owner: str | None = None,
        poll_interval: float = 1.0,
        lease_seconds: float = 30.0,
        batch_size: int = 50,
        retry_base: float = 0.5,
        retry_max: float = 30.0,
        ack_timeout: float = 300.0,
        give_up_after: float = 86_400.0,
    ) -> None:
        self.outbox = outbox
        self.dapr = dapr
        self.owner = owner or f"relay-{uuid.uuid4().hex[:12]}"
        self.poll_interval = poll_interval
        self.lease = timedelta(seconds=lease_seconds)
        self.batch_size = batch_size
        self.retry_base = retry_base
        self.retry_max = retry_max
        self.ack_timeout = timedelta(seconds=ack_timeout)
        self.give_up_after = timedelta(seconds=give_up_after)
        self._wake = asyncio.Event()
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        # Read-only status for `/health` (background_jobs): when a round last finished, and
        # the error of the last round if it failed.
        self.last_run_at: datetime | None = None
        self.last_error: str | None = None
        outbox.on_added(self.wake)

    # ---- lifecycle ---------------------------------------------------------------------------

    def wake(self) -> None:
        self._wake.set()

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name=f"outbox-relay:{self.owner}")

    async def stop(self) -> None:
        """Finish the publish in flight (so no lease is left behind), then stop."""
        self._stopping.set()
        self._wake.set()
        task, self._task = self._task, None
        if task is None:
            return
        try:
            await asyncio.wait_for(asyncio.shield(task), _STOP_GRACE_SECONDS)
        except TimeoutError:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    async def _run(self) -> None:
        log.info("outbox_relay_started", owner=self.owner)
        while not self._stopping.is_set():
            self._wake.clear()
            try:
                await self.run_once()
                self.last_error = None
            except PyMongoError as exc:
                self.last_error = type(exc).__name__
                log.warning("outbox_relay_db_error", error=type(exc).__name__)
            except Exception as exc:  # the relay must survive anything and keep going
                self.last_error = type(exc).__name__
                log.error("outbox_relay_error", error=type(exc).__name__, exc_info=exc)
            self.last_run_at = utcnow()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.poll_interval)
        log.info("outbox_relay_stopped", owner=self.owner)

    # ---- one round ---------------------------------------------------------------------------

    async def run_once(self) -> int:
        """Requeue what is unacknowledged, then publish what is due. Returns events published."""
        await self.requeue_unacknowledged()
        published = 0
        for _ in range(self.batch_size):
            if self._stopping.is_set():
                break
            record = await self.claim()
            if record is None:
                break
            if await self.publish(record):
                published += 1
            else:
                break  # the sidecar is not taking events now: wait for the next round
        return published

    async def claim(self) -> OutboxRecord | None:
        now = utcnow()
        lease = {
            "$set": {
                "relay_status": RelayStatus.PUBLISHING.value,
                "lease_owner": self.owner,
                "lease_until": now + self.lease,
            }
        }
        for filter_ in (
            {"relay_status": RelayStatus.PENDING.value, "next_attempt_at": {"$lte": now}},
            # A relay that died (or hung) while publishing: its lease ran out.
            {"relay_status": RelayStatus.PUBLISHING.value, "lease_until": {"$lt": now}},
        ):
            # Look before claiming: an idle round then only reads. A write that matches
            # nothing is still a write to the local mongoeco server, which fails any
            # transaction (of any service) that overlaps one.
            if await self.outbox.collection.find_one(filter_, {"_id": True}) is None:
                continue
            async with self.outbox.write_lock:
                raw = await self.outbox.collection.find_one_and_update(
                    filter_,
                    lease,
                    sort=[("next_attempt_at", 1)],
                    projection=_PROJECTION,
                    return_document=ReturnDocument.AFTER,
                )
            if raw is not None:
                return OutboxRecord.model_validate(raw)
        return None

    async def publish(self, record: OutboxRecord) -> bool:
        mine = {
            "event_id": record.event_id,
            "lease_owner": self.owner,
            "relay_status": RelayStatus.PUBLISHING.value,
        }
        try:
            await self.dapr.publish(
                record.pubsub,
                record.topic,
                record.payload,
                metadata={"cloudevent.id": record.event_id},
            )
        except AppError as exc:
            attempts = record.attempts + 1
            delay = min(self.retry_base * 2 ** (attempts - 1), self.retry_max)
            async with self.outbox.write_lock:
                await self.outbox.collection.update_one(
                    mine,
                    {
                        "$set": {
                            "relay_status": RelayStatus.PENDING.value,
                            "next_attempt_at": utcnow() + timedelta(seconds=delay),
                            "lease_owner": None,
                            "lease_until": None,
                            "last_error": exc.message[:500],
                        },
                        "$inc": {"attempts": 1},
                    },
                )
            log.warning(
                "outbox_publish_failed",
                event_id=record.event_id,
                topic=record.topic,
                attempts=attempts,
                retry_in=delay,
                error=exc.message,
            )
            return False
        now = utcnow()
        changes: dict[str, Any] = {
            "relay_status": RelayStatus.PUBLISHED.value,
            "published_at": now,
            "lease_owner": None,
            "lease_until": None,
            "last_error": None,
            "last_updated_at": now,
        }
        if record.status in (DeliveryStatus.PENDING, DeliveryStatus.FAILED):
            changes["status"] = DeliveryStatus.PUBLISHED.value
        async with self.outbox.write_lock:
            result = await self.outbox.collection.update_one(
                mine, {"$set": changes, "$inc": {"publish_count": 1, "version": 1}}
            )
        if result.matched_count != 1:
            # Our lease ran out mid-publish and another relay took the event: it may be
            # published twice, which consumers tolerate (they de-duplicate on event_id).
            log.warning("outbox_lease_lost", event_id=record.event_id, owner=self.owner)
        log.info("outbox_published", event_id=record.event_id, topic=record.topic, owner=self.owner)
        return True

    async def requeue_unacknowledged(self) -> int:
        """Publish again what consumers have not all acknowledged in time; give up at last."""
        async with self.outbox.write_lock:
            return await self._requeue_unacknowledged()

    async def _requeue_unacknowledged(self) -> int:
        now = utcnow()
        waiting = [DeliveryStatus.PUBLISHED.value, DeliveryStatus.PARTIALLY_DELIVERED.value]
        waiting.append(DeliveryStatus.FAILED.value)
        stale = {
            "relay_status": RelayStatus.PUBLISHED.value,
            "status": {"$in": waiting},
            "gave_up": False,
            "$or": [
                {"created_at": {"$lt": now - self.give_up_after}},
                {"published_at": {"$lt": now - self.ack_timeout}},
            ],
        }
        if await self.outbox.collection.find_one(stale, {"_id": True}) is None:
            return 0  # read-only idle round (see `claim`)
        given_up = await self.outbox.collection.update_many(
            {
                "relay_status": RelayStatus.PUBLISHED.value,
                "status": {"$in": waiting},
                "gave_up": False,
                "created_at": {"$lt": now - self.give_up_after},
            },
            {
                "$set": {"status": DeliveryStatus.FAILED.value, "gave_up": True},
                "$inc": {"version": 1},
            },
        )
        if given_up.modified_count:
            log.warning("outbox_undelivered_given_up", count=given_up.modified_count)
        requeued = await self.outbox.collection.update_many(
            {
                "relay_status": RelayStatus.PUBLISHED.value,
                "status": {"$in": waiting},
                "gave_up": False,
                "consumers.0": {"$exists": True},
                "published_at": {"$lt": now - self.ack_timeout},
            },
            {
                "$set": {
                    "relay_status": RelayStatus.PENDING.value,
                    "next_attempt_at": now,
                    "last_updated_at": now,
                }
            },
        )
        if requeued.modified_count:
            log.info("outbox_unacknowledged_requeued", count=requeued.modified_count)
        return requeued.modified_count


def relay_from_settings(outbox: Outbox, dapr: DaprClientHelper, settings: Any) -> OutboxRelay:
    """A relay configured from `OutboxSettings` fields."""
    return OutboxRelay(
        outbox,
        dapr,
        poll_interval=settings.outbox_poll_interval_seconds,
        lease_seconds=settings.outbox_lease_seconds,
        batch_size=settings.outbox_batch_size,
        retry_base=settings.outbox_retry_base_seconds,
        retry_max=settings.outbox_retry_max_seconds,
        ack_timeout=settings.outbox_ack_timeout_seconds,
        give_up_after=settings.outbox_give_up_seconds,
    )
