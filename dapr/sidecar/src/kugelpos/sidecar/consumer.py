"""Delivery of one topic to one app: a consumer group on the topic's stream.

The group is the app id, shared by every sidecar serving that app, so replicas split the
messages (competing consumers), unless the pub/sub component's consumerID is `{uuid}`: then
the group is this sidecar instance's own (`<app id>-<instance uuid>`), so every replica gets
every message (broadcast), as daprd does. Such a group lives as long as its sidecar: it is
destroyed on a clean shutdown, and one left behind by a crash is pruned by its siblings once
its consumers have been idle for `stale_group_seconds`, so its pending list does not grow
forever.

New entries are read with XREADGROUP. An entry the app did not take (RETRY, error, timeout, crash
of the app or of this sidecar) stays in the group's pending list, and is claimed again once it
has been idle for the backoff its delivery count calls for. The pending list lives in Redis, so
nothing is lost when either side restarts: at-least-once, like daprd's redis component.

Idle is idle: the pending list is looked at when a delivery here was not taken (at the time
its backoff ends, the earliest of what is pending), at start, and otherwise once per
`max_backoff` only (entries a crashed sibling sidecar left pending); a read blocks for up to
`read_block_ms` (4 s). An idle topic costs about 15 Redis commands a minute, not 180.
A message the app drops (DROP, 404) goes to the subscription's dead-letter topic, if it names
one, in the same Redis transaction as its acknowledgement; a message no routing rule matches is
acknowledged and goes nowhere (daprd does not dead-letter it either).
"""

import asyncio
import contextlib
import re
from typing import Any

import httpx
from redis.asyncio import Redis
from redis.exceptions import RedisError, ResponseError

from kugelpos.sidecar.delivery import Outcome, deliver
from kugelpos.sidecar.logs import log
from kugelpos.sidecar.messages import StreamMessage
from kugelpos.sidecar.settings import AppTarget, Settings
from kugelpos.sidecar.subscriptions import Subscription

# A blocked read costs nothing; each return is a round trip. It must end before the Redis
# client's socket timeout (redis-py's default is 5 s) with a second to spare, and a
# per-instance group's read blocks for less than a quarter of the stale-group time (siblings
# judge it by its idle time).
READ_BLOCK_MS = 10_000
_SOCKET_TIMEOUT_DEFAULT = 5.0
PENDING_BATCH = 100
# An instance uuid as the registry makes it (uuid4().hex): tells per-instance groups apart.
_INSTANCE_SUFFIX = r"-[0-9a-f]{32}"


def instance_group(app_id: str, instance_id: str) -> str:
    return f"{app_id}-{instance_id}"


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


async def prune_stale_groups(
    redis: Redis, stream: str, app_id: str, keep: str, stale_seconds: float
) -> list[str]:
    """Destroys the per-instance groups of `app_id` on `stream` whose every consumer has been
    idle for `stale_seconds`: their sidecar died without cleaning up (a live one reads at
    least every READ_BLOCK_MS). Returns the destroyed groups' names."""
    pattern = re.compile(re.escape(app_id) + _INSTANCE_SUFFIX)
    stale_ms = stale_seconds * 1000
    destroyed: list[str] = []
    for info in await redis.xinfo_groups(stream):
        name = _text(info["name"])
        if name == keep or not pattern.fullmatch(name):
            continue
        consumers = await redis.xinfo_consumers(stream, name)
        # No consumer yet: a sidecar that created it is about to read; not ours to judge.
        if not consumers or any(int(c["idle"]) < stale_ms for c in consumers):
            continue
        with contextlib.suppress(ResponseError):  # another sibling pruned it first
            await redis.xgroup_destroy(stream, name)
            destroyed.append(name)
            log.info("stale_consumer_group_destroyed", app_id=app_id, topic=stream, group=name)
    return destroyed


def backoff_seconds(settings: Settings, times_delivered: int) -> float:
    """Exponential: the first redelivery after `redeliver_interval`, doubling, capped."""
    exponent = min(max(times_delivered, 1) - 1, 32)
    return min(settings.redeliver_interval * 2**exponent, settings.max_backoff)


class TopicConsumer:
    def __init__(
        self,
        redis: Redis,
        http: httpx.AsyncClient,
        settings: Settings,
        app: AppTarget,
        sub: Subscription,
        *,
        instance_id: str | None = None,
    ) -> None:
        """`instance_id` given: the group is this sidecar instance's own (broadcast)."""
        self.redis = redis
        self.http = http
        self.settings = settings
        self.app = app
        # Replaced in place when the app declares a changed route for the same topic.
        self.sub = sub
        self._slots = asyncio.Semaphore(settings.concurrency)
        self._inflight: set[str] = set()
        # Set when something may have become pending here (a delivery not taken).
        self._pending_changed = asyncio.Event()
        self._deliveries: set[asyncio.Task[None]] = set()
        self._runner: asyncio.Task[None] | None = None
        self.per_instance = instance_id is not None
        self._group = app.app_id if instance_id is None else instance_group(app.app_id, instance_id)

    @property
    def stream(self) -> str:
        return self.sub.topic

    @property
    def group(self) -> str:
        return self._group

    @property
    def consumer(self) -> str:
        return self.settings.sidecar_id

    async def ensure_group(self) -> None:
        """Creates the group (kept if it exists). An app's shared group starts at the stream's
        beginning (`0`), as daprd's redis component does: what was published before the
        subscriber's first sidecar came up (a cart selling before the journal was first
        deployed, or faster than this sidecar found the app's subscriptions) is delivered, not
        skipped. A per-instance broadcast group starts at the end (`$`): it serves its replica's
        live fan-out (cache invalidations, stock alerts to its sockets), and a replica started
        now has nothing to catch up on; replaying the topic's history to it would resend old
        alerts."""
        start = "$" if self.per_instance else "0"
        try:
            await self.redis.xgroup_create(self.stream, self.group, id=start, mkstream=True)
            log.info(
                "consumer_group_created",
                app_id=self.app.app_id,
                topic=self.stream,
                group=self.group,
            )
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    async def close(self) -> None:
        """Stops consuming; a per-instance group goes too, as nobody will read it again."""
        await self.stop()
        if not self.per_instance:
            return
        try:
            await self.redis.xgroup_destroy(self.stream, self.group)
            log.info("consumer_group_destroyed", app_id=self.app.app_id, group=self.group)
        except RedisError as exc:  # best effort: a sibling prunes it once it is stale
            log.warning("consumer_group_not_destroyed", group=self.group, error=str(exc))

    def start(self) -> None:
        self._runner = asyncio.create_task(self._run(), name=f"consume:{self.group}:{self.stream}")

    async def stop(self) -> None:
        tasks = [t for t in (self._runner, *self._deliveries) if t is not None]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    async def _run(self) -> None:
        loops = [self._read_new(), self._redeliver_pending()]
        if self.per_instance:
            loops.append(self._prune_stale())
        await asyncio.gather(*loops)

    async def _prune_stale(self) -> None:
        # Often enough that a dead sibling's group goes soon after it turns stale.
        every = min(max(self.settings.stale_group_seconds / 2, 0.5), 60.0)
        while True:
            with contextlib.suppress(RedisError):
                await prune_stale_groups(
                    self.redis,
                    self.stream,
                    self.app.app_id,
                    self.group,
                    self.settings.stale_group_seconds,
                )
            await asyncio.sleep(every)

    async def _recover(self, exc: RedisError) -> None:
        # NOGROUP after the stream was deleted (e.g. FLUSHDB): recreate and carry on.
        log.warning("consumer_redis_error", group=self.group, topic=self.stream, error=str(exc))
        await asyncio.sleep(1.0)
        with contextlib.suppress(RedisError):
            await self.ensure_group()

    @property
    def read_block_ms(self) -> int:
        block = READ_BLOCK_MS
        kwargs = self.redis.connection_pool.connection_kwargs
        timeout = kwargs.get("socket_timeout", _SOCKET_TIMEOUT_DEFAULT)
        if timeout:
            block = min(block, int((float(timeout) - 1.0) * 1000))
        if self.per_instance:
            block = min(block, int(self.settings.stale_group_seconds * 250))
        return max(100, block)

    async def _read_new(self) -> None:
        while True:
            try:
                batches = await self.redis.xreadgroup(
                    self.group,
                    self.consumer,
                    {self.stream: ">"},
                    count=self.settings.concurrency,
                    block=self.read_block_ms,
                )
            except RedisError as exc:
                await self._recover(exc)
                continue
            for _stream, entries in batches or []:
                for entry_id, fields in entries:
                    await self._spawn(StreamMessage.from_fields(entry_id, fields))

    async def _redeliver_pending(self) -> None:
        # At most this often under load (as the fixed tick was); when idle, not at all until
        # something is due or the safety-net interval passes.
        gap = min(max(self.settings.redeliver_interval / 2, 0.05), 1.0)
        safety_net = max(self.settings.max_backoff, self.settings.redeliver_interval)
        while True:
            self._pending_changed.clear()
            try:
                due_in = await self._claim_due()
            except RedisError as exc:
                await self._recover(exc)
                continue
            wait = safety_net if due_in is None else min(max(due_in, gap), safety_net)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._pending_changed.wait(), wait)
            await asyncio.sleep(gap)

    async def _claim_due(self) -> float | None:
        """Claims and delivers what is due; returns the seconds until the next pending entry
        (not in flight here) will be, or None when nothing is pending."""
        pending = await self.redis.xpending_range(
            self.stream, self.group, min="-", max="+", count=PENDING_BATCH
        )
        next_due: float | None = None
        for entry in pending:
            entry_id = entry["message_id"].decode()
            if entry_id in self._inflight:
                continue
            due_ms = int(backoff_seconds(self.settings, entry["times_delivered"]) * 1000)
            left_ms = due_ms - entry["time_since_delivered"]
            if left_ms > 0 or self._slots.locked():  # claiming counts a delivery: only if sent
                wait = max(left_ms, 0) / 1000 or self.settings.redeliver_interval
                next_due = wait if next_due is None else min(next_due, wait)
                continue
            # The idle check inside XCLAIM makes the claim safe against another claimer.
            claimed = await self.redis.xclaim(
                self.stream, self.group, self.consumer, min_idle_time=due_ms, message_ids=[entry_id]
            )
            for claimed_id, fields in claimed:
                if fields is None:
                    await self.redis.xack(self.stream, self.group, claimed_id)
                    continue
                log.info(
                    "redelivering",
                    group=self.group,
                    topic=self.stream,
                    id=entry_id,
                    attempt=entry["times_delivered"] + 1,
                )
                await self._spawn(StreamMessage.from_fields(claimed_id, fields))
        return next_due

    async def _spawn(self, message: StreamMessage) -> None:
        # In flight from the moment it is read, so the redelivery loop never claims it twice.
        self._inflight.add(message.id)
        await self._slots.acquire()
        task = asyncio.create_task(self._handle(message))
        self._deliveries.add(task)
        task.add_done_callback(self._deliveries.discard)

    async def _handle(self, message: StreamMessage) -> None:
        try:
            outcome = await deliver(
                self.http, self.app, self.sub, message, self.settings.processing_timeout
            )
            if outcome in (Outcome.SUCCESS, Outcome.SKIP):
                await self.redis.xack(self.stream, self.group, message.id)
            elif outcome is Outcome.DROP:
                await self._drop(message)
            else:
                # Restart the idle clock without counting a delivery: backoff runs from now.
                await self.redis.xclaim(
                    self.stream,
                    self.group,
                    self.consumer,
                    min_idle_time=0,
                    message_ids=[message.id],
                    justid=True,
                )
            if outcome is Outcome.RETRY:
                self._pending_changed.set()  # its backoff starts now: look again then
        except RedisError as exc:
            # Still pending in Redis, so the redelivery loop picks it up again.
            log.warning("consumer_ack_failed", group=self.group, id=message.id, error=str(exc))
            self._pending_changed.set()
        finally:
            self._inflight.discard(message.id)
            self._slots.release()

    async def _drop(self, message: StreamMessage) -> None:
        dead_letter = self.sub.dead_letter_topic
        async with self.redis.pipeline(transaction=True) as pipe:
            if dead_letter:
                pipe.xadd(dead_letter, message.to_fields())
            pipe.xack(self.stream, self.group, message.id)
            await pipe.execute()
        log.info(
            "dropped",
            group=self.group,
            topic=self.stream,
            id=message.id,
            dead_letter_topic=dead_letter or None,
        )
