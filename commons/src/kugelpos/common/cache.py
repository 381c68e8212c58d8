"""A small in-process read-through cache: TTL per entry, bounded size (LRU), explicit
invalidation, and one load per key at a time.

Made for hot read paths whose source of truth is MongoDB (master data looked up on every sale,
terminal API keys checked on every request). Writers invalidate what they change; the TTL
bounds how long another process (another replica) can serve an old value.

A value loaded while an invalidation of its key happened is returned to its caller but not
stored, so a write racing a slow read can never put the old value back into the cache.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass


@dataclass
class CacheStats:
    hits: int = 0
    misses: int = 0
    evictions: int = 0
    invalidations: int = 0


@dataclass(slots=True)
class _Entry[V]:
    value: V
    expires: float


class TTLCache[K: Hashable, V]:
    """`ttl` seconds per entry (0 disables caching), at most `max_entries` entries."""

    def __init__(
        self,
        *,
        ttl: float,
        max_entries: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if ttl < 0:
            raise ValueError("ttl must be >= 0")
        if max_entries < 1:
            raise ValueError("max_entries must be >= 1")
        self.ttl = ttl
        self.max_entries = max_entries
        self._clock = clock
        self._entries: OrderedDict[K, _Entry[V]] = OrderedDict()
        self._loading: dict[K, asyncio.Future[V]] = {}
        # Bumped by every invalidation; a load only stores its value if nothing was
        # invalidated since it started.
        self._epoch = 0
        self.stats = CacheStats()

    @property
    def enabled(self) -> bool:
        return self.ttl > 0

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, key: object) -> bool:
        return self._lookup(key) is not None  # type: ignore[arg-type]

    def _lookup(self, key: K) -> _Entry[V] | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        if entry.expires <= self._clock():
            del self._entries[key]
            return None
        self._entries.move_to_end(key)
        return entry

    def get(self, key: K, default: V | None = None) -> V | None:
        entry = self._lookup(key)
        if entry is None:
            return default
        return entry.value

    def set(self, key: K, value: V) -> None:
        if not self.enabled:
            return
        self._entries[key] = _Entry(value, self._clock() + self.ttl)
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)
            self.stats.evictions += 1

    async def get_or_load(self, key: K, loader: Callable[[], Awaitable[V]]) -> V:
        """The cached value, else `await loader()` (stored, unless invalidated meanwhile).

        Concurrent callers of one missing key share a single load. Exceptions are not cached.
        """
        entry = self._lookup(key)
        if entry is not None:
            self.stats.hits += 1
            return entry.value
        self.stats.misses += 1
        if not self.enabled:
            return await loader()
        pending = self._loading.get(key)
        if pending is not None:
            return await asyncio.shield(pending)
        epoch = self._epoch
        future: asyncio.Future[V] = asyncio.get_running_loop().create_future()
        self._loading[key] = future
        try:
            value = await loader()
        except BaseException as exc:
            if not future.done():
                future.set_exception(exc)
                # Waiters re-raise it; mark it retrieved so it is never logged as lost.
                future.exception()
            raise
        else:
            if epoch == self._epoch:
                self.set(key, value)
            future.set_result(value)
            return value
        finally:
            if self._loading.get(key) is future:
                del self._loading[key]

    def invalidate(self, key: K) -> None:
        self._epoch += 1
        self.stats.invalidations += 1
        self._entries.pop(key, None)
        self._loading.pop(key, None)

    def invalidate_where(self, predicate: Callable[[K], bool]) -> int:
        """Drop every key the predicate selects (e.g. all keys of one tenant); returns how many."""
        self._epoch += 1
        self.stats.invalidations += 1
        doomed = [key for key in self._entries if predicate(key)]
        for key in doomed:
            del self._entries[key]
        for key in [key for key in self._loading if predicate(key)]:
            del self._loading[key]
        return len(doomed)

    def clear(self) -> None:
        self._epoch += 1
        self.stats.invalidations += 1
        self._entries.clear()
        self._loading.clear()
