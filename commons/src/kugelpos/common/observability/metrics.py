"""Prometheus metrics, one registry per app (tests run several apps in one process).

What an operator watches (docs/operations.md, "Observability", lists every series):
requests (latency, errors), fallbacks, transaction volume, the outbox backlog of publishers,
event consumption (outcomes and age), circuit breakers, and the process itself.

Everything here is in-process arithmetic except the scrape hooks (`on_scrape`), which a
service registers for values that live in its database (the outbox backlog): they run when
`/metrics` is read, at most every `min_interval` seconds, never on a request's path.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

import structlog
from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.registry import Collector

from ..transactions import TransactionType

log = structlog.get_logger(__name__)

_BUCKETS = (0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0)
# Event age spans a healthy sub-second hand-over to a day-long consumer outage (the outbox
# gives up after a day by default).
EVENT_AGE_BUCKETS = (
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
    30.0,
    60.0,
    300.0,
    900.0,
    3600.0,
    21_600.0,
    86_400.0,
)
# A hung database must not hang the scrape: a hook that takes longer keeps its last values.
SCRAPE_HOOK_TIMEOUT_SECONDS = 2.0

_KINDS = {
    TransactionType.NORMAL_SALES: "sale",
    TransactionType.NORMAL_SALES_CANCEL: "cancelled",
    TransactionType.RETURN_SALES: "return",
    TransactionType.VOID_SALES: "void_sale",
    TransactionType.VOID_RETURN: "void_return",
}


def transaction_kind(transaction_type: int, *, cancelled: bool = False) -> str:
    """The `type` label of a tranlog: a cancelled sale (101 + `is_cancelled`) is `cancelled`;
    unknown codes keep their number, so nothing is silently merged."""
    if cancelled and transaction_type == TransactionType.NORMAL_SALES:
        return "cancelled"
    try:
        return _KINDS[TransactionType(transaction_type)]
    except (ValueError, KeyError):
        return f"type_{transaction_type}"


def event_age_seconds(
    generated: Any, published: Any = None, *, now: datetime | None = None
) -> float | None:
    """Seconds since the log was generated (end-to-end: how stale a consumer's view is), else
    since the event was published (the CloudEvent `time`); None when the event carries
    neither with a time zone. Clock skew between hosts never gives a negative age."""
    moment = _aware(generated) or _aware(published)
    if moment is None:
        return None
    return max(0.0, ((now or datetime.now(UTC)) - moment).total_seconds())


def _aware(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str) and value:
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
    else:
        return None
    return parsed if parsed.tzinfo is not None else None


class BreakerView(Protocol):
    """What the breaker collector reads of a breaker (see clients/breaker.py)."""

    @property
    def state_code(self) -> int: ...

    @property
    def trips(self) -> int: ...


class _BreakerCollector(Collector):
    """Breaker state read when scraped: the breakers keep their own state (open turns half-open
    by time alone), so a gauge set on transitions would go stale between calls."""

    def __init__(self, service: str, breakers: Callable[[], Iterator[tuple[str, BreakerView]]]):
        self._service = service
        self._breakers = breakers

    def collect(self) -> Iterator[Metric]:
        state = GaugeMetricFamily(
            "kugelpos_breaker_state",
            "Circuit breaker per target: 0 closed, 1 half-open, 2 open",
            labels=["service", "target"],
        )
        trips = CounterMetricFamily(
            "kugelpos_breaker_trips",
            "Times a target's circuit opened",
            labels=["service", "target"],
        )
        for target, breaker in self._breakers():
            state.add_metric([self._service, target], breaker.state_code)
            trips.add_metric([self._service, target], breaker.trips)
        yield state
        yield trips

    def describe(self) -> list[Metric]:
        # No samples at registration: the collector is read only when scraped.
        return []


type ScrapeHook = Callable[[], Awaitable[None]]


@dataclass
class _Hook:
    run: ScrapeHook
    min_interval: float
    last_run: float = float("-inf")
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


class Metrics:
    content_type = CONTENT_TYPE_LATEST

    def __init__(self, service: str, *, process: bool = True) -> None:
        self.registry = CollectorRegistry()
        self.service = service
        self._hooks: list[_Hook] = []
        self.latency = Histogram(
            "http_request_duration_seconds",
            "Request latency",
            ["service", "method", "route", "status"],
            buckets=_BUCKETS,
            registry=self.registry,
        )
        self.errors = Counter(
            "http_request_errors_total",
            "Responses with status >= 400",
            ["service", "method", "route", "status"],
            registry=self.registry,
        )
        self.fallbacks = Counter(
            "dependency_fallbacks_total",
            "Answers served from a fallback (e.g. a last known copy) because a dependency failed",
            ["service", "dependency", "what"],
            registry=self.registry,
        )
        self.transactions = Counter(
            "kugelpos_transactions_total",
            "Transaction logs recorded (once each, never on a retried request), by type",
            ["service", "type"],
            registry=self.registry,
        )
        self.transaction_amounts = Counter(
            "kugelpos_transaction_amount_total",
            "Sum of recorded transactions' total with tax, in yen (returns and voids positive)",
            ["service", "type"],
            registry=self.registry,
        )
        self.events = Counter(
            "kugelpos_events_consumed_total",
            "Events received by a consumer, by topic and outcome "
            "(applied, duplicate, dropped, rejected, retry, error, dead_letter)",
            ["service", "topic", "outcome"],
            registry=self.registry,
        )
        self.event_age = Histogram(
            "kugelpos_event_age_seconds",
            "Age of an event when applied: now minus the log's generate time "
            "(or the publish time when the log has none)",
            ["service", "topic"],
            buckets=EVENT_AGE_BUCKETS,
            registry=self.registry,
        )
        self.outbox_backlog = Gauge(
            "kugelpos_outbox_backlog",
            "Outbox events by state: pending (not yet published) or unacknowledged "
            "(published, still awaiting a consumer)",
            ["service", "state"],
            registry=self.registry,
        )
        self.outbox_oldest = Gauge(
            "kugelpos_outbox_oldest_unacknowledged_seconds",
            "Age of the oldest outbox event not yet acknowledged by every consumer (0: none)",
            ["service"],
            registry=self.registry,
        )
        self.outbox_given_up = Gauge(
            "kugelpos_outbox_given_up",
            "Outbox events no longer republished: every consumer without them gave them up "
            "(rejected or dead letter), or none acknowledged them within the give-up time",
            ["service"],
            registry=self.registry,
        )
        if process:
            # The per-app registry does not get the default registry's collectors.
            ProcessCollector(registry=self.registry)
            PlatformCollector(registry=self.registry)

    # ---- recording -----------------------------------------------------------------------------

    def fallback(self, dependency: str, what: str) -> None:
        self.fallbacks.labels(self.service, dependency, what).inc()

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        labels = (self.service, method, route, str(status))
        self.latency.labels(*labels).observe(seconds)
        if status >= 400:
            self.errors.labels(*labels).inc()

    def transaction(self, kind: str, amount: float) -> None:
        self.transactions.labels(self.service, kind).inc()
        # A counter only grows; a total below zero (never produced by the cart) is not added.
        if amount > 0:
            self.transaction_amounts.labels(self.service, kind).inc(amount)

    def event(self, topic: str, outcome: str, age_seconds: float | None = None) -> None:
        self.events.labels(self.service, topic, outcome).inc()
        if age_seconds is not None:
            self.event_age.labels(self.service, topic).observe(age_seconds)

    def outbox(
        self, *, pending: int, unacknowledged: int, oldest_seconds: float, given_up: int = 0
    ) -> None:
        self.outbox_backlog.labels(self.service, "pending").set(pending)
        self.outbox_backlog.labels(self.service, "unacknowledged").set(unacknowledged)
        self.outbox_oldest.labels(self.service).set(oldest_seconds)
        self.outbox_given_up.labels(self.service).set(given_up)

    def watch_breakers(self, breakers: Callable[[], Iterator[tuple[str, BreakerView]]]) -> None:
        self.registry.register(_BreakerCollector(self.service, breakers))

    # ---- scraping ------------------------------------------------------------------------------

    def on_scrape(self, hook: ScrapeHook, *, min_interval: float = 5.0) -> None:
        """Run `hook` before a scrape renders, unless it ran less than `min_interval` ago: a
        few scrapers (or a refreshing dashboard) then cost one query per interval."""
        self._hooks.append(_Hook(hook, min_interval))

    async def refresh(self) -> None:
        for hook in self._hooks:
            async with hook.lock:  # concurrent scrapes share one run
                if time.monotonic() - hook.last_run < hook.min_interval:
                    continue
                try:
                    await asyncio.wait_for(hook.run(), SCRAPE_HOOK_TIMEOUT_SECONDS)
                except Exception as exc:  # a scrape never fails for a gauge; last values stay
                    log.warning("metrics_scrape_hook_failed", error=type(exc).__name__)
                hook.last_run = time.monotonic()

    async def render_async(self) -> bytes:
        await self.refresh()
        return self.render()

    def render(self) -> bytes:
        return generate_latest(self.registry)
