"""Name resolution for service invocation: an app id to the addresses of its live replicas.

daprd resolves an app id through the platform (Kubernetes DNS, mDNS) to every running instance
and spreads calls over them. Here each sidecar announces the apps it serves in Redis (a hash
per app id: instance -> address and when it was last announced), again every
`ANNOUNCE_SECONDS`; an entry not renewed for `STALE_SECONDS` is a dead sidecar's and is
skipped. Calls go round-robin over the live addresses; one that refuses the connection is
skipped for `DOWN_SECONDS` (its app died while its sidecar lives) and the call goes to the next.
Without Redis the sidecar still reaches the apps it serves itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import time

from redis.asyncio import Redis
from redis.exceptions import RedisError

from kugelpos.sidecar.logs import log
from kugelpos.sidecar.settings import Settings

ANNOUNCE_SECONDS = 2.0
STALE_SECONDS = 10.0
DOWN_SECONDS = 2.0
# Addresses read from Redis are reused this long: an invocation costs no Redis round trip.
LOOKUP_CACHE_SECONDS = 1.0


def _key(namespace: str, app_id: str) -> str:
    return f"dapr-nameresolution:{namespace}:{app_id}"


class NameResolver:
    def __init__(self, redis: Redis, settings: Settings, instance_id: str) -> None:
        self.redis = redis
        self.settings = settings
        self.instance_id = instance_id
        self._task: asyncio.Task[None] | None = None
        self._looked_up: dict[str, tuple[float, list[str]]] = {}
        self._turn: dict[str, itertools.count[int]] = {}
        self._down: dict[str, float] = {}

    def start(self) -> None:
        if self.settings.apps:
            self._task = asyncio.create_task(self._announce_loop(), name="announce")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        # A clean stop leaves no address behind for the others to try.
        with contextlib.suppress(RedisError, OSError):
            for app in self.settings.apps:
                await self.redis.hdel(_key(self.settings.namespace, app.app_id), self.instance_id)

    async def _announce(self) -> None:
        now = time.time()
        for app in self.settings.apps:
            entry = json.dumps({"url": app.base_url, "seen": now})
            await self.redis.hset(
                _key(self.settings.namespace, app.app_id), self.instance_id, entry
            )

    async def _announce_loop(self) -> None:
        while True:
            try:
                await self._announce()
            except (RedisError, OSError) as exc:
                log.warning("announce_failed", error=str(exc))
            await asyncio.sleep(ANNOUNCE_SECONDS)

    async def _registered(self, app_id: str) -> list[str]:
        cached = self._looked_up.get(app_id)
        now = time.monotonic()
        if cached is not None and now - cached[0] < LOOKUP_CACHE_SECONDS:
            return cached[1]
        try:
            raw = await self.redis.hgetall(_key(self.settings.namespace, app_id))
        except (RedisError, OSError) as exc:
            log.warning("resolve_failed", app_id=app_id, error=str(exc))
            return cached[1] if cached is not None else []
        fresh = time.time() - STALE_SECONDS
        urls = []
        for value in raw.values():
            try:
                entry = json.loads(value)
            except ValueError:
                continue
            if isinstance(entry, dict) and float(entry.get("seen", 0)) >= fresh:
                urls.append(str(entry["url"]))
        urls = sorted(set(urls))
        self._looked_up[app_id] = (now, urls)
        return urls

    async def resolve(self, app_id: str) -> list[str]:
        """Every live address of `app_id`, the next one in turn first, those that recently
        refused a connection last; empty when no sidecar serves the app."""
        urls = set(await self._registered(app_id))
        own = self.settings.app(app_id)
        if own is not None:
            urls.add(own.base_url)
        ordered = sorted(urls)
        if not ordered:
            return []
        turn = next(self._turn.setdefault(app_id, itertools.count()))
        start = turn % len(ordered)
        rotated = ordered[start:] + ordered[:start]
        now = time.monotonic()
        return sorted(rotated, key=lambda url: self._down.get(url, 0.0) > now)

    def refused(self, url: str) -> None:
        self._down[url] = time.monotonic() + DOWN_SECONDS

    def answered(self, url: str) -> None:
        self._down.pop(url, None)
