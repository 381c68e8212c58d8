"""Counting failed attempts (logins, PINs) per key in a fixed window.

Counts live in the Dapr state store with a TTL, so every replica of a service sees them; if
the sidecar is unreachable, a per-process counter keeps throttling instead of failing open.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass

import structlog

from .clients.dapr import DaprClientHelper, DaprError
from .errors import ConflictError, TooManyAttemptsError

log = structlog.get_logger(__name__)
_MAX_CAS_TRIES = 5


@dataclass
class _Window:
    count: int
    started: float


class AttemptLimiter:
    def __init__(
        self,
        dapr: DaprClientHelper,
        *,
        store: str,
        namespace: str,
        max_attempts: int,
        window_seconds: int,
    ) -> None:
        self._dapr = dapr
        self._store = store
        self._namespace = namespace
        self.max_attempts = max_attempts
        self.window_seconds = window_seconds
        self._local: dict[str, _Window] = {}

    def _key(self, parts: tuple[str, ...]) -> str:
        # Hashed so user names never appear as state keys.
        digest = hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:40]
        return f"{self._namespace}:{digest}"

    def _local_count(self, key: str) -> int:
        window = self._local.get(key)
        if window is None or time.monotonic() - window.started >= self.window_seconds:
            self._local.pop(key, None)
            return 0
        return window.count

    async def _count(self, key: str) -> int:
        try:
            entry = await self._dapr.get_state(self._store, key)
        except DaprError:
            return self._local_count(key)
        return int(entry.value) if entry and isinstance(entry.value, int) else 0

    async def check(self, *parts: str) -> int:
        """Raise TooManyAttemptsError while the key is locked out; else the failures so far."""
        key = self._key(parts)
        count = max(await self._count(key), self._local_count(key))
        if count >= self.max_attempts:
            raise TooManyAttemptsError(
                "Too many failed attempts; try again later",
                headers={"Retry-After": str(self.window_seconds)},
            )
        return count

    async def record_failure(self, *parts: str) -> None:
        key = self._key(parts)
        window = self._local.get(key)
        if window is None or time.monotonic() - window.started >= self.window_seconds:
            self._local[key] = _Window(1, time.monotonic())
        else:
            window.count += 1
        try:
            for _ in range(_MAX_CAS_TRIES):
                entry = await self._dapr.get_state(self._store, key)
                try:
                    if entry is None:
                        # The window starts with the first failure and ends with the TTL.
                        await self._dapr.save_state(
                            self._store, key, 1, ttl_seconds=self.window_seconds, first_write=True
                        )
                    else:
                        await self._dapr.save_state(
                            self._store,
                            key,
                            int(entry.value) + 1,
                            etag=entry.etag,
                            ttl_seconds=self.window_seconds,
                        )
                    return
                except ConflictError:
                    continue
        except DaprError:
            log.warning("attempt_limiter_state_unavailable", namespace=self._namespace)

    async def reset(self, *parts: str) -> None:
        key = self._key(parts)
        self._local.pop(key, None)
        try:
            await self._dapr.delete_state(self._store, key)
        except DaprError:
            log.warning("attempt_limiter_state_unavailable", namespace=self._namespace)
