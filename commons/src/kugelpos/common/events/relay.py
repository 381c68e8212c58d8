"""The outbox relay: publishes pending events through Dapr and marks them published.

Safe with several replicas and restarts: events are claimed with a lease (one conditional
update of the due `_id`s, read back by a claim token), so one relay publishes each; a round
claims and marks a whole batch in a handful of commands addressed by `_id`, never one per
event (the relay fell behind the tills at 10 terminals when it looked, claimed and marked once
per event, behind a process lock). A relay that dies mid-publish
leaves a lease that expires and another relay takes the event over (at-least-once; consumers
de-duplicate on `event_id`). A failed publish (sidecar or Redis down, circuit open) leaves the
event pending with a growing backoff: events are delayed, never lost.

An event its consumers have not all acknowledged is published again when its `recheck_at`
comes: `ack_timeout` after the first publish, then twice as long after each republish (capped
at `ack_timeout_max`), until `give_up_after` from its creation, when it is marked failed and
`given_up`; or until every consumer that lacks it gave it up for good (`Outbox.acknowledge`),
which also makes it `given_up`. A given-up event is never looked at again unless a replay
re-arms it.
Every lookup is one indexed read of what is due: the relay never rescans the outbox, and its
cost does not grow with history or with an unacknowledged backlog. The one lookup that spans
every published event still awaited (is a recheck due?) runs only when a recheck this relay set
falls due, or once per `poll_interval` for the ones other replicas set.

Idle is idle: the relay sleeps until a commit wakes it (`Outbox.notify_added`) or until the
earliest due time it knows of (a retry, an expiring lease, a recheck), at most
`poll_interval` (the safety net for work it was not told about, e.g. a dead replica's leases).
New events always go first; republishing a backlog is paced (`republish_pause`) and yields to
new events, so a consumer stopped for a day never slows the till down.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog
from pymongo.errors import PyMongoError

from ..clients.dapr import DaprClientHelper
from ..clock import utcnow
from ..errors import AppError
from .outbox import AWAITING_ACK, DeliveryStatus, Outbox, OutboxRecord, RelayStatus

log = structlog.get_logger(__name__)
_STOP_GRACE_SECONDS = 10.0
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ERROR_PAUSE_SECONDS = 1.0
# Publishes in flight at once within a batch (the sidecar takes them in parallel).
PUBLISH_CONCURRENCY = 16


class OutboxRelay:
    def __init__(
        self,
        outbox: Outbox,
        dapr: DaprClientHelper,
        *,
        owner: str | None = None,
        poll_interval: float = 30.0,
        lease_seconds: float = 30.0,
        batch_size: int = 50,
        retry_base: float = 0.5,
        retry_max: float = 30.0,
        ack_timeout: float = 300.0,
        ack_timeout_max: float = 3600.0,
        give_up_after: float = 86_400.0,
        give_up_check_interval: float = 0.0,
        republish_pause: float = 0.0,
        fresh_lease_seconds: float = 5.0,
    ) -> None:
        self.outbox = outbox
        self.dapr = dapr
        self.owner = owner or f"relay-{uuid.uuid4().hex[:12]}"
        self.poll_interval = poll_interval
        self.lease = timedelta(seconds=lease_seconds)
        self.batch_size = batch_size
        self.retry_base = retry_base
        self.retry_max = retry_max
        self.ack_timeout = ack_timeout
        self.ack_timeout_max = max(ack_timeout_max, ack_timeout)
        self.give_up_after = timedelta(seconds=give_up_after)
        self.give_up_check_interval = give_up_check_interval
        self.republish_pause = republish_pause
        self.fresh_lease_seconds = fresh_lease_seconds
        self._next_give_up_check: datetime | None = None
        # When to look for published events whose acknowledgement wait ran out. Rechecks are
        # minutes apart and this relay knows the ones it set, so the look is made when one of
        # those falls due, or after `poll_interval` (another replica's), not every round: a
        # round is a read fewer, and an idle relay stays idle.
        # None: at the next round. `_recheck_expected`: the nearest recheck known (a wake-up
        # time for `next_due_in`), None if none is.
        self._recheck_probe_at: datetime | None = None
        self._recheck_expected: datetime | None = None
        self._wake = asyncio.Event()
        # A round (a look at what is due) is wanted now; committed events leased to this relay
        # waiting to be published without one.
        self._round_requested = True
        self._fresh: list[OutboxRecord] = []
        # Directly published events waiting for their mark, and the task marking them: the
        # next events are published while the last ones' mark waits its turn at the server.
        self._unmarked: list[OutboxRecord] = []
        self._marker: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.rounds = 0
        # Read-only status for `/health` (background_jobs): when a round last finished, and
        # the error of the last round if it failed.
        self.last_run_at: datetime | None = None
        self.last_error: str | None = None
        outbox.on_added(self._on_committed)
        outbox.on_recheck(self._on_recheck)

    # ---- lifecycle ---------------------------------------------------------------------------

    def wake(self) -> None:
        """Look at what is due now (a round)."""
        self._round_requested = True
        self._wake.set()

    def _on_committed(self, records: list[OutboxRecord]) -> None:
        # Events a commit leased to this relay are published as they are, without a round (a
        # round is four or five commands, each queued at the server behind the tills' bills:
        # at 10 tills the events waited 0.8 s there). Anything else: a round finds it.
        if records and self.running and all(r.lease_owner == self.owner for r in records):
            self._fresh.extend(records)
            self._wake.set()
        else:
            self.wake()

    def _on_recheck(self, at: datetime) -> None:
        # A replay re-armed a given-up event: look at it when it is due (now), not at the next
        # probe of the rechecks.
        self._expect_recheck(at)
        if self._recheck_probe_at is None or at < self._recheck_probe_at:
            self._recheck_probe_at = at
        self.wake()

    def start(self) -> None:
        if self._task is None:
            self.outbox.publish_directly(self.owner, self.fresh_lease_seconds)
            self._task = asyncio.create_task(self._run(), name=f"outbox-relay:{self.owner}")

    async def stop(self) -> None:
        """Finish the publish in flight (so no lease is left behind), then stop."""
        self.outbox.publish_directly(None)
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
        loop = asyncio.get_running_loop()
        next_round = loop.time()
        while not self._stopping.is_set():
            self._wake.clear()
            if self._fresh:
                await self._publish_fresh()
            if self._recheck_expected is not None:  # marked events: a round rechecks in time
                wait = (self._recheck_expected - utcnow()).total_seconds()
                next_round = min(next_round, loop.time() + max(0.0, wait))
            if self._round_requested or loop.time() >= next_round:
                self._round_requested = False
                next_round = loop.time() + await self._round()
            pause = next_round - loop.time()
            if self._fresh or self._round_requested or pause <= 0:
                await asyncio.sleep(0)  # more is due: let requests in between
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), pause)
        if self._fresh:  # committed before the stop: publish rather than leave leased
            await self._publish_fresh()
        if self._marker is not None:
            await self._marker
        log.info("outbox_relay_stopped", owner=self.owner)

    async def _round(self) -> float:
        """One round; returns the seconds until the next one is due."""
        delay = self.poll_interval
        try:
            published = await self.run_once()
            self.last_error = None
            delay = 0.0 if published >= self.batch_size else await self.next_due_in()
        except PyMongoError as exc:
            self.last_error = type(exc).__name__
            log.warning("outbox_relay_db_error", error=type(exc).__name__)
            delay = _ERROR_PAUSE_SECONDS
        except Exception as exc:  # the relay must survive anything and keep going
            self.last_error = type(exc).__name__
            log.error("outbox_relay_error", error=type(exc).__name__, exc_info=exc)
            delay = _ERROR_PAUSE_SECONDS
        self.last_run_at = utcnow()
        return min(delay, self.poll_interval)

    async def _publish_fresh(self) -> None:
        """Publish the committed events handed over since the last time; their mark follows
        in the background (`_mark_fresh`). A refused event backs off like any other."""
        records, self._fresh = self._fresh, []
        try:
            errors = await self._send(records)
            published = [r for r, error in zip(records, errors, strict=True) if error is None]
            if published:
                self._unmarked.extend(published)
                if self._marker is None or self._marker.done():
                    self._marker = asyncio.create_task(self._mark_fresh())
            for record, error in zip(records, errors, strict=True):
                if error is not None:
                    self._round_requested = True  # a round times the retry
                    await self._back_off(record, error)
        except Exception as exc:  # the relay must survive anything and keep going
            self._failed(exc)

    async def _mark_fresh(self) -> None:
        """Mark what was published directly, everything published meanwhile in one go (group
        commit). A failed mark leaves the events leased: when the leases run out a round
        publishes them again (consumers de-duplicate)."""
        while self._unmarked:
            batch, self._unmarked = self._unmarked, []
            try:
                await self._mark_published(batch)
            except Exception as exc:  # the relay must survive anything and keep going
                self._failed(exc)
            self._wake.set()  # the loop looks at the rechecks these marks set

    def _failed(self, exc: Exception) -> None:
        """A direct publish or mark failed: the events stay leased or back off, and a round
        (asked for here) takes them up when their time comes."""
        self._round_requested = True
        self.last_error = type(exc).__name__
        if isinstance(exc, PyMongoError):
            log.warning("outbox_relay_db_error", error=type(exc).__name__)
        else:
            log.error("outbox_relay_error", error=type(exc).__name__, exc_info=exc)

    # ---- one round ---------------------------------------------------------------------------

    async def run_once(self) -> int:
        """Give up what is too old, then publish what is due (new events first, then
        republishing of what is unacknowledged). Returns the events published."""
        self.rounds += 1
        await self.give_up_unacknowledged()
        published = 0
        while published < self.batch_size and not self._stopping.is_set():
            records, republish = await self._claim(self.batch_size - published)
            if not records:
                break
            done = await self._publish_all(records)
            published += done
            if done < len(records):
                break  # the sidecar is not taking events now: wait for the next round
            if republish and self.republish_pause > 0:
                # A backlog yields: new events (a wake) end the pause and go first.
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self.republish_pause)
        return published

    def _filters(self, now: datetime) -> list[tuple[dict[str, Any], str, bool]]:
        """(filter, sort field, is a republish) of what is due, in the order served."""
        return [
            (
                {"relay_status": RelayStatus.PENDING.value, "next_attempt_at": {"$lte": now}},
                "next_attempt_at",
                False,
            ),
            # A relay that died (or hung) while publishing: its lease ran out.
            (
                {"relay_status": RelayStatus.PUBLISHING.value, "lease_until": {"$lt": now}},
                "lease_until",
                False,
            ),
            # Published, but not acknowledged by every consumer in time.
            (
                {
                    "relay_status": RelayStatus.PUBLISHED.value,
                    "recheck_at": {"$gte": _EPOCH, "$lte": now},
                    "status": {"$in": AWAITING_ACK},
                },
                "recheck_at",
                True,
            ),
        ]

    async def claim(self) -> OutboxRecord | None:
        records, _ = await self._claim(1)
        return records[0] if records else None

    async def _claim(self, limit: int) -> tuple[list[OutboxRecord], bool]:
        """Lease up to `limit` due events of the first kind that has any (a republish one at a
        time, so a backlog stays paced). Three commands whatever the count, each addressed by
        `_id` or a read of what is due, never of the history: read the due ids, lease those
        still due, read back the ones this claim leased (a competing relay may have leased
        some first: each event goes to one relay)."""
        now = utcnow()
        token = uuid.uuid4().hex
        lease = {
            "$set": {
                "relay_status": RelayStatus.PUBLISHING.value,
                "lease_owner": self.owner,
                "lease_until": now + self.lease,
                "lease_token": token,
            }
        }
        for filter_, field, republish in self._filters(now):
            if republish and not await self._rechecks_due(now):
                continue
            # Look before claiming: an idle round then only reads (indexed, what is due).
            due = await self.outbox.collection.find(
                filter_, {"_id": True}, limit=1 if republish else limit
            ).to_list()
            if not due:
                continue
            ids = [raw["_id"] for raw in due]
            await self.outbox.collection.update_many({**filter_, "_id": {"$in": ids}}, lease)
            mine = await self.outbox.collection.find(
                {"_id": {"$in": ids}, "lease_token": token}
            ).to_list()
            if mine:
                records = [OutboxRecord.model_validate(raw) for raw in mine]
                records.sort(key=lambda record: getattr(record, field) or _EPOCH)
                return records, republish
        return [], False

    async def _rechecks_due(self, now: datetime) -> bool:
        """Is it time to look for rechecks? If so and none is due yet, note when one will be
        (one read), at most `poll_interval` ahead."""
        if self._recheck_probe_at is not None and now < self._recheck_probe_at:
            return False
        filter_, field, _ = self._filters(now)[2]
        if await self.outbox.collection.find_one(filter_, {"_id": True}) is not None:
            self._recheck_probe_at = self._recheck_expected = None  # due now; look next round
            return True
        later = dict(filter_)
        later[field] = {"$gte": _EPOCH}
        raw = await self.outbox.collection.find_one(
            later, {"_id": False, field: True}, sort=[(field, 1)]
        )
        horizon = now + timedelta(seconds=self.poll_interval)
        nearest = raw.get(field) if raw is not None else None
        self._recheck_expected = nearest if isinstance(nearest, datetime) else None
        self._recheck_probe_at = min(nearest, horizon) if isinstance(nearest, datetime) else horizon
        return False

    def _expect_recheck(self, at: datetime) -> None:
        if self._recheck_probe_at is not None:
            self._recheck_probe_at = min(self._recheck_probe_at, at)
        if self._recheck_expected is None or at < self._recheck_expected:
            self._recheck_expected = at

    async def next_due_in(self) -> float:
        """Seconds until the earliest retry, lease expiry or recheck (poll_interval if none).
        Retries and leases are few (indexed reads of the pending and publishing events); the
        rechecks come from what the relay noted (see `_recheck_probe_at`)."""
        now = utcnow()
        due: list[datetime] = []
        for filter_, field, republish in self._filters(now):
            if republish:
                if self._recheck_expected is not None:
                    due.append(self._recheck_expected)
                continue
            filter_ = dict(filter_)
            filter_[field] = {"$gte": _EPOCH}
            raw = await self.outbox.collection.find_one(
                filter_, {"_id": False, field: True}, sort=[(field, 1)]
            )
            if raw is not None and isinstance(raw.get(field), datetime):
                due.append(raw[field])
        if self._next_give_up_check is not None and self.give_up_check_interval > 0:
            due.append(self._next_give_up_check)
        if not due:
            return self.poll_interval
        return max(0.0, (min(due) - now).total_seconds())

    def _ack_wait(self, publish_count: int) -> float:
        """How long to wait for acknowledgements after the (publish_count+1)-th publish."""
        return min(self.ack_timeout * 2 ** min(publish_count, 32), self.ack_timeout_max)

    async def publish(self, record: OutboxRecord) -> bool:
        """Publish one claimed event and mark it (see `_publish_all`)."""
        return await self._publish_all([record]) == 1

    async def _publish_all(self, records: list[OutboxRecord]) -> int:
        """Publish claimed events, up to `PUBLISH_CONCURRENCY` at once (one after the other, a
        batch of 50 took a second or two under load before its first event was marked), then
        mark the published ones with one update per kind. A refused event backs off (it
        counts the attempt and keeps the error, so an operator sees every stuck event):
        delayed, never lost. Returns how many were published."""
        errors = await self._send(records)
        published = [r for r, error in zip(records, errors, strict=True) if error is None]
        await self._mark_published(published)
        for record, error in zip(records, errors, strict=True):
            if error is not None:
                await self._back_off(record, error)
        return len(published)

    async def _send(self, records: list[OutboxRecord]) -> list[str | None]:
        """Publish each event through the sidecar; the error of each refused one, else None."""
        slots = asyncio.Semaphore(PUBLISH_CONCURRENCY)

        async def publish(record: OutboxRecord) -> str | None:
            async with slots:
                try:
                    await self.dapr.publish(
                        record.pubsub,
                        record.topic,
                        record.payload,
                        metadata={"cloudevent.id": record.event_id},
                    )
                except AppError as exc:
                    return exc.message
            return None

        return list(await asyncio.gather(*(publish(record) for record in records)))

    def _mine(self, records: list[OutboxRecord]) -> dict[str, Any]:
        return {
            "_id": {"$in": [record.doc_id for record in records]},
            "lease_owner": self.owner,
            "relay_status": RelayStatus.PUBLISHING.value,
        }

    async def _mark_published(self, records: list[OutboxRecord]) -> None:
        if not records:
            return
        now = utcnow()
        # Only an event nobody has acknowledged yet becomes `published`: an acknowledgement
        # can arrive between the publish and this mark, and the status it set stands. So two
        # kinds of marks (with and without the status), each grouped by its recheck time:
        # one or two updates for a batch of new events.
        unacknowledged = [DeliveryStatus.PENDING.value, DeliveryStatus.FAILED.value]
        groups: dict[datetime | None, list[OutboxRecord]] = {}
        for record in records:
            awaits = bool(record.consumers) and record.status is not DeliveryStatus.DELIVERED
            recheck = now + timedelta(seconds=self._ack_wait(record.publish_count))
            groups.setdefault(recheck if awaits else None, []).append(record)
        for recheck_at, group in groups.items():
            if recheck_at is not None:
                self._expect_recheck(recheck_at)
            changes: dict[str, Any] = {
                "relay_status": RelayStatus.PUBLISHED.value,
                "published_at": now,
                "lease_owner": None,
                "lease_until": None,
                "lease_token": None,
                "last_error": None,
                "last_updated_at": now,
                # Consumers to hear from: look again later (backing off); else nothing to
                # wait for.
                "recheck_at": recheck_at,
            }
            marked = 0
            for extra_filter, extra_set in (
                ({"status": {"$in": unacknowledged}}, {"status": DeliveryStatus.PUBLISHED.value}),
                ({}, {}),
            ):
                result = await self.outbox.collection.update_many(
                    {**self._mine(group), **extra_filter},
                    {"$set": {**changes, **extra_set}, "$inc": {"publish_count": 1, "version": 1}},
                )
                marked += result.matched_count
                if marked == len(group):
                    break
            if marked != len(group):
                # A lease ran out mid-publish and another relay took the event: it may be
                # published twice, which consumers tolerate (they de-duplicate on event_id).
                log.warning("outbox_lease_lost", owner=self.owner, lost=len(group) - marked)
        for record in records:
            if record.publish_count:
                log.info(
                    "outbox_republished",
                    event_id=record.event_id,
                    topic=record.topic,
                    publish_count=record.publish_count + 1,
                )
            else:
                log.info(
                    "outbox_published",
                    event_id=record.event_id,
                    topic=record.topic,
                    owner=self.owner,
                )

    async def _back_off(self, record: OutboxRecord, error: str) -> None:
        attempts = record.attempts + 1
        delay = min(self.retry_base * 2 ** (attempts - 1), self.retry_max)
        await self.outbox.collection.update_one(
            self._mine([record]),
            {
                "$set": {
                    "relay_status": RelayStatus.PENDING.value,
                    "next_attempt_at": utcnow() + timedelta(seconds=delay),
                    "lease_owner": None,
                    "lease_until": None,
                    "lease_token": None,
                    "last_error": error[:500],
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
            error=error,
        )

    async def give_up_unacknowledged(self) -> int:
        """Mark failed and `given_up` what its consumers have not acknowledged within
        `give_up_after` of its creation or last replay (left alone from then on). At most
        every `give_up_check_interval` seconds; one indexed update of exactly those events."""
        now = utcnow()
        if self._next_give_up_check is not None and now < self._next_give_up_check:
            return 0
        if self.give_up_check_interval > 0:
            self._next_give_up_check = now + timedelta(seconds=self.give_up_check_interval)
        cutoff = now - self.give_up_after
        stale = {
            "gave_up": False,
            "status": {"$in": AWAITING_ACK},
            "created_at": {"$lt": cutoff},
            "relay_status": RelayStatus.PUBLISHED.value,
            # A replay restarts the clock.
            "$or": [{"rearmed_at": None}, {"rearmed_at": {"$lt": cutoff}}],
        }
        if await self.outbox.collection.find_one(stale, {"_id": True}) is None:
            return 0  # read-only idle round
        given_up = await self.outbox.collection.update_many(
            stale,
            {
                "$set": {
                    "status": DeliveryStatus.FAILED.value,
                    "gave_up": True,
                    "relay_status": RelayStatus.GIVEN_UP.value,
                    "given_up_at": now,
                    "recheck_at": None,
                    "last_updated_at": now,
                },
                "$inc": {"version": 1},
            },
        )
        if given_up.modified_count:
            log.warning("outbox_undelivered_given_up", count=given_up.modified_count)
        return given_up.modified_count


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
        ack_timeout_max=settings.outbox_ack_timeout_max_seconds,
        give_up_after=settings.outbox_give_up_seconds,
        give_up_check_interval=settings.outbox_give_up_check_seconds,
        republish_pause=settings.outbox_republish_pause_seconds,
        fresh_lease_seconds=settings.outbox_fresh_lease_seconds,
    )
