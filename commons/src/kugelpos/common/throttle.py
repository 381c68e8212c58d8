"""Throttling failed attempts (logins, PINs) per key, with growing delays instead of a lock.

A key's first `free_attempts - 1` failures cost nothing; from the `free_attempts`-th on, each
failure makes the key wait before its next attempt: `base_delay` seconds, doubling with every
further failure, at most `max_delay`. While a key waits, every attempt (even a right one) is
refused with 429 and `Retry-After`; the failure record is forgotten `forget_after` seconds after
the key's wait ends, or at once on a success. So nobody is locked out for good: the longest
wait is `max_delay`, and only for the key that failed (the account service's login key is
tenant, user and client address, so a flood from one address leaves the user's own logins
alone).

Records live in the Dapr state store with a TTL, so every replica of a service sees them; if
the sidecar is unreachable, a per-process record keeps throttling instead of failing open.
"""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import structlog

from .clients.dapr import DaprClientHelper, DaprError
from .errors import ConflictError, TooManyAttemptsError

log = structlog.get_logger(__name__)
_MAX_CAS_TRIES = 5


@dataclass(frozen=True)
class Attempts:
    """A key's failures so far and the epoch second before which it must not try again."""

    failures: int
    not_before: float = 0.0

    def to_state(self) -> dict[str, Any]:
        return {"failures": self.failures, "not_before": self.not_before}

    @classmethod
    def from_state(cls, value: Any) -> Attempts | None:
        if isinstance(value, dict):
            try:
                return cls(int(value.get("failures", 0)), float(value.get("not_before", 0.0)))
            except (TypeError, ValueError):
                return None
        return None


@dataclass
class _Local:
    attempts: Attempts
    expires_at: float


class AttemptLimiter:
    def __init__(
        self,
        dapr: DaprClientHelper,
        *,
        store: str,
        namespace: str,
        free_attempts: int,
        forget_after_seconds: float,
        base_delay_seconds: float = 5.0,
        max_delay_seconds: float = 900.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._dapr = dapr
        self._store = store
        self._namespace = namespace
        self.free_attempts = max(1, free_attempts)
        self.forget_after_seconds = forget_after_seconds
        self.base_delay_seconds = base_delay_seconds
        self.max_delay_seconds = max(max_delay_seconds, base_delay_seconds)
        self._clock = clock
        self._local: dict[str, _Local] = {}

    def delay_after(self, failures: int) -> float:
        """Seconds a key waits after its `failures`-th failure."""
        if failures < self.free_attempts:
            return 0.0
        # 2**n grows past any cap quickly; bound the exponent so the float never overflows.
        exponent = min(failures - self.free_attempts, 64)
        return min(self.base_delay_seconds * 2**exponent, self.max_delay_seconds)

    def _key(self, parts: tuple[str, ...]) -> str:
        # Hashed so user names and addresses never appear as state keys.
        digest = hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:40]
        return f"{self._namespace}:{digest}"

    def _local_attempts(self, key: str) -> Attempts | None:
        entry = self._local.get(key)
        if entry is None or self._clock() >= entry.expires_at:
            self._local.pop(key, None)
            return None
        return entry.attempts

    async def _stored(self, key: str) -> Attempts | None:
        try:
            entry = await self._dapr.get_state(self._store, key)
        except DaprError:
            return self._local_attempts(key)
        return Attempts.from_state(entry.value) if entry else None

    async def check(self, *parts: str) -> int:
        """Raise TooManyAttemptsError (429, `Retry-After`) while the key must wait; else
        return its failures so far."""
        key = self._key(parts)
        found = [a for a in (await self._stored(key), self._local_attempts(key)) if a]
        if not found:
            return 0
        wait = max(a.not_before for a in found) - self._clock()
        if wait > 0:
            raise TooManyAttemptsError(
                "Too many failed attempts; try again later",
                headers={"Retry-After": str(max(1, math.ceil(wait)))},
            )
        return max(a.failures for a in found)

    def _next(self, previous: Attempts | None) -> tuple[Attempts, int]:
        """The record after one more failure, and how long (s) the store should keep it."""
        failures = (previous.failures if previous else 0) + 1
        delay = self.delay_after(failures)
        attempts = Attempts(failures, self._clock() + delay if delay else 0.0)
        return attempts, max(1, math.ceil(delay + self.forget_after_seconds))

    async def record_failure(self, *parts: str) -> float:
        """Count one failure; returns how long the key now has to wait (s)."""
        key = self._key(parts)
        local, ttl = self._next(self._local_attempts(key))
        self._local[key] = _Local(local, self._clock() + ttl)
        try:
            for _ in range(_MAX_CAS_TRIES):
                entry = await self._dapr.get_state(self._store, key)
                previous = Attempts.from_state(entry.value) if entry else None
                attempts, ttl = self._next(previous)
                try:
                    if entry is None:
                        await self._dapr.save_state(
                            self._store,
                            key,
                            attempts.to_state(),
                            ttl_seconds=ttl,
                            first_write=True,
                        )
                    else:
                        await self._dapr.save_state(
                            self._store, key, attempts.to_state(), etag=entry.etag, ttl_seconds=ttl
                        )
                    return max(0.0, attempts.not_before - self._clock())
                except ConflictError:
                    continue
        except DaprError:
            log.warning("attempt_limiter_state_unavailable", namespace=self._namespace)
        return max(0.0, local.not_before - self._clock())

    async def reset(self, *parts: str) -> None:
        key = self._key(parts)
        self._local.pop(key, None)
        try:
            await self._dapr.delete_state(self._store, key)
        except DaprError:
            log.warning("attempt_limiter_state_unavailable", namespace=self._namespace)
