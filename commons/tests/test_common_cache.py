"""The read-through TTL cache: hits, expiry, bounded size, invalidation, single flight."""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kugelpos.common.cache import TTLCache


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


def counting_loader(values: dict[str, int], calls: list[str], key: str):
    async def load() -> int:
        calls.append(key)
        return values[key]

    return load


async def test_read_through_hits_until_expiry(clock: Clock) -> None:
    cache: TTLCache[str, int] = TTLCache(ttl=5, clock=clock)
    values, calls = {"a": 1}, []
    assert await cache.get_or_load("a", counting_loader(values, calls, "a")) == 1
    values["a"] = 2
    assert await cache.get_or_load("a", counting_loader(values, calls, "a")) == 1
    assert cache.stats.hits == 1 and cache.stats.misses == 1
    clock.now += 5
    assert await cache.get_or_load("a", counting_loader(values, calls, "a")) == 2
    assert calls == ["a", "a"]


async def test_invalidate_makes_next_read_fresh(clock: Clock) -> None:
    cache: TTLCache[str, int] = TTLCache(ttl=60, clock=clock)
    values, calls = {"a": 1}, []
    await cache.get_or_load("a", counting_loader(values, calls, "a"))
    values["a"] = 2
    cache.invalidate("a")
    assert "a" not in cache
    assert await cache.get_or_load("a", counting_loader(values, calls, "a")) == 2


async def test_invalidate_where_and_clear(clock: Clock) -> None:
    cache: TTLCache[tuple[str, str], int] = TTLCache(ttl=60, clock=clock)
    for tenant in ("T1", "T2"):
        for code in ("x", "y"):
            cache.set((tenant, code), 1)
    assert cache.invalidate_where(lambda k: k[0] == "T1") == 2
    assert len(cache) == 2 and ("T2", "x") in cache
    cache.clear()
    assert len(cache) == 0


async def test_bounded_size_evicts_least_recently_used(clock: Clock) -> None:
    cache: TTLCache[str, int] = TTLCache(ttl=60, max_entries=2, clock=clock)
    cache.set("a", 1)
    cache.set("b", 2)
    assert cache.get("a") == 1  # a is now the most recent
    cache.set("c", 3)
    assert "b" not in cache and "a" in cache and "c" in cache
    assert cache.stats.evictions == 1


async def test_none_is_cached_and_exceptions_are_not(clock: Clock) -> None:
    cache: TTLCache[str, int | None] = TTLCache(ttl=60, clock=clock)
    calls: list[str] = []

    async def missing() -> None:
        calls.append("x")
        return None

    assert await cache.get_or_load("x", missing) is None
    assert await cache.get_or_load("x", missing) is None
    assert calls == ["x"]

    async def broken() -> int:
        raise RuntimeError("db down")

    with pytest.raises(RuntimeError):
        await cache.get_or_load("y", broken)
    assert "y" not in cache


async def test_zero_ttl_disables_caching(clock: Clock) -> None:
    cache: TTLCache[str, int] = TTLCache(ttl=0, clock=clock)
    values, calls = {"a": 1}, []
    await cache.get_or_load("a", counting_loader(values, calls, "a"))
    await cache.get_or_load("a", counting_loader(values, calls, "a"))
    assert calls == ["a", "a"] and len(cache) == 0


async def test_concurrent_misses_share_one_load() -> None:
    cache: TTLCache[str, int] = TTLCache(ttl=60)
    calls = 0
    gate = asyncio.Event()

    async def slow() -> int:
        nonlocal calls
        calls += 1
        await gate.wait()
        return 42

    tasks = [asyncio.create_task(cache.get_or_load("k", slow)) for _ in range(10)]
    await asyncio.sleep(0)
    gate.set()
    assert await asyncio.gather(*tasks) == [42] * 10
    assert calls == 1


async def test_concurrent_waiters_see_the_loaders_error() -> None:
    cache: TTLCache[str, int] = TTLCache(ttl=60)
    gate = asyncio.Event()

    async def failing() -> int:
        await gate.wait()
        raise ValueError("boom")

    tasks = [asyncio.create_task(cache.get_or_load("k", failing)) for _ in range(3)]
    await asyncio.sleep(0)
    gate.set()
    results = await asyncio.gather(*tasks, return_exceptions=True)
    assert all(isinstance(r, ValueError) for r in results)


async def test_write_during_a_slow_read_is_not_overwritten_by_the_old_value() -> None:
    """A loader that read the old value before a write must not re-populate the cache."""
    cache: TTLCache[str, int] = TTLCache(ttl=60)
    db = {"price": 100}
    read_done = asyncio.Event()
    release = asyncio.Event()

    async def slow_read() -> int:
        value = db["price"]  # reads the old value
        read_done.set()
        await release.wait()
        return value

    reader = asyncio.create_task(cache.get_or_load("price", slow_read))
    await read_done.wait()
    db["price"] = 77  # the write...
    cache.invalidate("price")  # ...and its invalidation
    release.set()
    assert await reader == 100  # the racing reader got what it read
    fresh = await cache.get_or_load("price", lambda: asyncio.sleep(0, result=db["price"]))
    assert fresh == 77


def test_bad_arguments() -> None:
    with pytest.raises(ValueError):
        TTLCache(ttl=-1)
    with pytest.raises(ValueError):
        TTLCache(ttl=1, max_entries=0)


@given(
    st.lists(
        st.tuples(st.sampled_from(["set", "get", "invalidate", "tick"]), st.integers(0, 9)),
        max_size=200,
    ),
    st.integers(1, 5),
)
def test_model_never_serves_stale_or_overflows(ops: list[tuple[str, int]], size: int) -> None:
    """Against a dict model: never more than max_entries, never a value after invalidation
    or expiry, and a hit always returns the last value set."""
    clock = Clock()
    cache: TTLCache[int, int] = TTLCache(ttl=3, max_entries=size, clock=clock)
    model: dict[int, tuple[int, float]] = {}
    for version, (op, key) in enumerate(ops):
        if op == "set":
            cache.set(key, version)
            model[key] = (version, clock.now + 3)
        elif op == "invalidate":
            cache.invalidate(key)
            model.pop(key, None)
        elif op == "tick":
            clock.now += 1
        else:
            got = cache.get(key)
            if got is not None:
                value, expires = model[key]
                assert got == value and clock.now < expires
        assert len(cache) <= size
