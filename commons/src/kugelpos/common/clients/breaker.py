"""One small circuit breaker, shared by the HTTP and Dapr helpers.

closed → (N consecutive failures) → open → (reset timeout elapsed) → half-open: one trial
call; its success closes the circuit, its failure opens it again.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from enum import StrEnum


class BreakerState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


_STATE_CODES = {BreakerState.CLOSED: 0, BreakerState.HALF_OPEN: 1, BreakerState.OPEN: 2}


class CircuitBreaker:
    def __init__(
        self,
        *,
        failure_threshold: int = 3,
        reset_timeout: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.failure_threshold = failure_threshold
        self.reset_timeout = reset_timeout
        self._clock = clock
        self._failures = 0
        self._opened_at = 0.0
        self._state = BreakerState.CLOSED
        self._trial_in_flight = False
        # Closed or half-open → open transitions, for `/metrics` (kugelpos_breaker_trips_total).
        self.trips = 0

    @property
    def state(self) -> BreakerState:
        if self._state is BreakerState.OPEN and (
            self._clock() - self._opened_at >= self.reset_timeout
        ):
            self._state = BreakerState.HALF_OPEN
            self._trial_in_flight = False
        return self._state

    @property
    def state_code(self) -> int:
        """0 closed, 1 half-open, 2 open: the `kugelpos_breaker_state` gauge."""
        return _STATE_CODES[self.state]

    def allow(self) -> bool:
        """May a call go out now? In half-open only one trial at a time."""
        state = self.state
        if state is BreakerState.CLOSED:
            return True
        if state is BreakerState.HALF_OPEN and not self._trial_in_flight:
            self._trial_in_flight = True
            return True
        return False

    def record_success(self) -> None:
        self._failures = 0
        self._state = BreakerState.CLOSED
        self._trial_in_flight = False

    def release(self) -> None:
        """The call that `allow()` let through ended without an outcome (cancelled, or a
        local error before anything reached the target): free the half-open trial slot so
        the breaker is not stuck refusing every call. Counts and state are unchanged."""
        self._trial_in_flight = False

    def record_failure(self) -> None:
        self._failures += 1
        self._trial_in_flight = False
        if self._state is BreakerState.HALF_OPEN or self._failures >= self.failure_threshold:
            # Calls let through before the circuit opened may fail after it did: one trip.
            if self._state is not BreakerState.OPEN:
                self.trips += 1
            self._state = BreakerState.OPEN
            self._opened_at = self._clock()


class BreakerRegistry:
    """One breaker per target (scheme://host:port)."""

    def __init__(self, *, failure_threshold: int = 3, reset_timeout: float = 60.0) -> None:
        self._failure_threshold = failure_threshold
        self._reset_timeout = reset_timeout
        self._breakers: dict[str, CircuitBreaker] = {}

    def for_target(self, target: str) -> CircuitBreaker:
        breaker = self._breakers.get(target)
        if breaker is None:
            breaker = CircuitBreaker(
                failure_threshold=self._failure_threshold, reset_timeout=self._reset_timeout
            )
            self._breakers[target] = breaker
        return breaker

    def items(self) -> Iterator[tuple[str, CircuitBreaker]]:
        """(target, breaker) pairs, a snapshot (a scrape may run while a call adds one)."""
        yield from list(self._breakers.items())
