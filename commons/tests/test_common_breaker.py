"""The circuit breaker, driven by a fake clock."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kugelpos.common.clients.breaker import BreakerRegistry, BreakerState, CircuitBreaker

TIMEOUT = 60.0


class FakeClock:
    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def breaker(clock: FakeClock) -> CircuitBreaker:
    return CircuitBreaker(failure_threshold=3, reset_timeout=TIMEOUT, clock=clock)


def _fail(breaker: CircuitBreaker, times: int) -> None:
    for _ in range(times):
        assert breaker.allow()
        breaker.record_failure()


def test_starts_closed(breaker: CircuitBreaker) -> None:
    assert breaker.state is BreakerState.CLOSED
    assert breaker.allow() and breaker.allow()


def test_opens_after_three_consecutive_failures(breaker: CircuitBreaker) -> None:
    _fail(breaker, 2)
    assert breaker.state is BreakerState.CLOSED
    _fail(breaker, 1)
    assert breaker.state is BreakerState.OPEN
    assert not breaker.allow()


def test_success_while_closed_resets_the_count(breaker: CircuitBreaker) -> None:
    _fail(breaker, 2)
    breaker.record_success()
    _fail(breaker, 2)
    assert breaker.state is BreakerState.CLOSED  # 2 + 2 failures, but not consecutive
    _fail(breaker, 1)
    assert breaker.state is BreakerState.OPEN


def test_stays_open_until_the_reset_timeout(breaker: CircuitBreaker, clock: FakeClock) -> None:
    _fail(breaker, 3)
    clock.advance(TIMEOUT - 0.001)
    assert breaker.state is BreakerState.OPEN
    assert not breaker.allow()
    clock.advance(0.001)
    assert breaker.state is BreakerState.HALF_OPEN


def test_half_open_allows_exactly_one_trial(breaker: CircuitBreaker, clock: FakeClock) -> None:
    _fail(breaker, 3)
    clock.advance(TIMEOUT)
    assert breaker.allow()
    assert not breaker.allow()
    assert not breaker.allow()
    assert breaker.state is BreakerState.HALF_OPEN


def test_trial_success_closes_and_resets(breaker: CircuitBreaker, clock: FakeClock) -> None:
    _fail(breaker, 3)
    clock.advance(TIMEOUT)
    assert breaker.allow()
    breaker.record_success()
    assert breaker.state is BreakerState.CLOSED
    assert breaker.allow() and breaker.allow()
    _fail(breaker, 2)  # the counter started again from zero
    assert breaker.state is BreakerState.CLOSED


def test_trial_failure_reopens_for_a_full_timeout(
    breaker: CircuitBreaker, clock: FakeClock
) -> None:
    _fail(breaker, 3)
    clock.advance(TIMEOUT + 5)
    assert breaker.allow()
    breaker.record_failure()  # a single failure in half-open is enough
    assert breaker.state is BreakerState.OPEN
    assert not breaker.allow()
    clock.advance(TIMEOUT - 1)
    assert not breaker.allow()
    clock.advance(1)
    assert breaker.allow()


def test_released_trial_lets_another_trial_through(
    breaker: CircuitBreaker, clock: FakeClock
) -> None:
    """A trial that ended without an outcome (cancelled, programming error) must not wedge
    the breaker in half-open forever."""
    _fail(breaker, 3)
    clock.advance(TIMEOUT)
    assert breaker.allow()
    breaker.release()
    assert breaker.state is BreakerState.HALF_OPEN
    assert breaker.allow()
    assert not breaker.allow()


def test_release_while_closed_is_harmless(breaker: CircuitBreaker) -> None:
    _fail(breaker, 2)
    breaker.release()
    assert breaker.state is BreakerState.CLOSED
    _fail(breaker, 1)
    assert breaker.state is BreakerState.OPEN  # release did not reset the count


def test_custom_threshold(clock: FakeClock) -> None:
    b = CircuitBreaker(failure_threshold=1, reset_timeout=5, clock=clock)
    _fail(b, 1)
    assert b.state is BreakerState.OPEN


def test_registry_one_breaker_per_target() -> None:
    registry = BreakerRegistry(failure_threshold=2, reset_timeout=7)
    a = registry.for_target("http://a:80")
    assert registry.for_target("http://a:80") is a
    b = registry.for_target("http://b:80")
    assert b is not a
    assert (a.failure_threshold, a.reset_timeout) == (2, 7)
    a.record_failure()
    a.record_failure()
    assert a.state is BreakerState.OPEN
    assert b.state is BreakerState.CLOSED


_ops = st.lists(
    st.one_of(
        st.tuples(st.just("advance"), st.floats(min_value=0, max_value=90, allow_nan=False)),
        st.tuples(st.just("allow"), st.just(0.0)),
        st.tuples(st.just("fail"), st.just(0.0)),
        st.tuples(st.just("succeed"), st.just(0.0)),
    ),
    max_size=60,
)


@settings(max_examples=300, deadline=None)
@given(ops=_ops, threshold=st.integers(min_value=1, max_value=5))
def test_property_never_allows_while_open_before_timeout(
    ops: list[tuple[str, float]], threshold: int
) -> None:
    clock = FakeClock(0.0)
    breaker = CircuitBreaker(failure_threshold=threshold, reset_timeout=TIMEOUT, clock=clock)
    opened_at: float | None = None  # when the breaker last (re)opened, per our own model
    consecutive = 0
    in_flight = False  # an allowed call whose outcome is not recorded yet
    for op, value in ops:
        if op == "advance":
            clock.advance(value)
        elif op == "allow":
            allowed = breaker.allow()
            if opened_at is not None and clock.now - opened_at < TIMEOUT:
                assert not allowed, "a call went out while open before the timeout"
            if allowed:
                in_flight = True
        elif op == "fail" and in_flight:
            in_flight = False
            half_open = opened_at is not None
            breaker.record_failure()
            consecutive += 1
            if half_open or consecutive >= threshold:
                opened_at = clock.now
            assert breaker.state is not BreakerState.CLOSED or opened_at is None
        elif op == "succeed" and in_flight:
            in_flight = False
            breaker.record_success()
            consecutive = 0
            opened_at = None
            assert breaker.state is BreakerState.CLOSED
