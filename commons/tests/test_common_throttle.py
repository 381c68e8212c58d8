"""AttemptLimiter: growing delays instead of a lock, per key, forgotten after a quiet spell.

These run with the sidecar unreachable, so the limiter keeps its per-process records (the
fallback that keeps throttling instead of failing open) and a clock the test moves. The shared
state-store path runs against the real sidecar in the account, terminal and master-data tests.
"""

from __future__ import annotations

import httpx
import pytest

from kugelpos.common.clients.breaker import BreakerRegistry
from kugelpos.common.clients.dapr import DaprClientHelper
from kugelpos.common.clients.http import HttpClientHelper
from kugelpos.common.errors import TooManyAttemptsError
from kugelpos.common.throttle import AttemptLimiter, Attempts


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def _down(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("sidecar down", request=request)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def limiter(clock: Clock) -> AttemptLimiter:
    http = HttpClientHelper(
        transport=httpx.MockTransport(_down), backoff=0.0, breakers=BreakerRegistry()
    )
    return AttemptLimiter(
        DaprClientHelper(http, "http://127.0.0.1:9/"),
        store="statestore",
        namespace="test",
        free_attempts=5,
        forget_after_seconds=900,
        base_delay_seconds=5,
        max_delay_seconds=900,
        clock=clock,
    )


def test_delays_start_at_the_fifth_failure_double_and_stop_growing(
    limiter: AttemptLimiter,
) -> None:
    assert [limiter.delay_after(n) for n in range(1, 12)] == [
        0,
        0,
        0,
        0,
        5,
        10,
        20,
        40,
        80,
        160,
        320,
    ]
    assert limiter.delay_after(13) == 900 and limiter.delay_after(10_000) == 900


async def _retry_after(limiter: AttemptLimiter, *key: str) -> int:
    with pytest.raises(TooManyAttemptsError) as refused:
        await limiter.check(*key)
    assert refused.value.status_code == 429 and refused.value.error_code == "200003"
    return int(refused.value.headers["Retry-After"])


async def test_a_key_waits_longer_after_each_failure_and_never_for_good(
    limiter: AttemptLimiter, clock: Clock
) -> None:
    key = ("T1", "admin", "198.51.100.9")
    for n in range(4):
        assert await limiter.check(*key) == n
        assert await limiter.record_failure(*key) == 0
    assert await limiter.record_failure(*key) == 5  # the fifth
    assert await _retry_after(limiter, *key) == 5
    clock.now += 4.5
    assert await _retry_after(limiter, *key) == 1
    clock.now += 0.5
    assert await limiter.check(*key) == 5  # the wait is over: one more try
    assert await limiter.record_failure(*key) == 10
    assert await _retry_after(limiter, *key) == 10
    for _ in range(10):  # an attacker trying again the moment each wait ends
        clock.now += await _retry_after(limiter, *key)
        await limiter.check(*key)
        await limiter.record_failure(*key)
    # Never more than the cap, however long it goes on.
    assert await _retry_after(limiter, *key) == 900


async def test_other_keys_are_not_held_up(limiter: AttemptLimiter) -> None:
    for _ in range(8):
        await limiter.record_failure("T1", "admin", "203.0.113.66")
    await _retry_after(limiter, "T1", "admin", "203.0.113.66")
    assert await limiter.check("T1", "admin", "198.51.100.9") == 0  # the user, elsewhere
    assert await limiter.check("T1", "clerk", "203.0.113.66") == 0
    assert await limiter.check("T2", "admin", "203.0.113.66") == 0


async def test_success_and_quiet_time_forget_the_failures(
    limiter: AttemptLimiter, clock: Clock
) -> None:
    key = ("T1", "admin", "198.51.100.9")
    for _ in range(3):
        await limiter.record_failure(*key)
    await limiter.reset(*key)
    assert await limiter.check(*key) == 0
    for _ in range(6):
        await limiter.record_failure(*key)  # now waits 10 s
    clock.now += 10 + 899
    assert await limiter.check(*key) == 6  # still remembered
    clock.now += 2
    assert await limiter.check(*key) == 0  # forgotten 900 s after the wait ended


def test_stored_records_of_either_shape() -> None:
    assert Attempts.from_state({"failures": 3, "not_before": 12.5}) == Attempts(3, 12.5)
    assert Attempts.from_state(4) is None  # not a record of this layout: a fresh start
    assert Attempts.from_state("junk") is None
    assert Attempts.from_state({"failures": "x"}) is None
    assert Attempts(2, 1.0).to_state() == {"failures": 2, "not_before": 1.0}
