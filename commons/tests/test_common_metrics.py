"""The metric helpers: transaction kinds and amounts, event age, breaker state and trips, scrape
hooks (interval, failure, timeout), process metrics, and the outbox backlog read from the
session MongoDB."""

from __future__ import annotations

import asyncio
import secrets
from datetime import UTC, datetime, timedelta

import pytest
from prometheus_client.parser import text_string_to_metric_families
from pymongo import AsyncMongoClient

from kugelpos.common.clients.breaker import BreakerRegistry, CircuitBreaker
from kugelpos.common.clock import utcnow
from kugelpos.common.events.outbox import Outbox, RelayStatus
from kugelpos.common.observability import metrics as metrics_module
from kugelpos.common.observability.metrics import Metrics, event_age_seconds, transaction_kind


def samples(metrics: Metrics) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of the rendered text, keyed by name and sorted labels."""
    found = {}
    for family in text_string_to_metric_families(metrics.render().decode()):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def value(metrics: Metrics, name: str, **labels: str) -> float | None:
    return samples(metrics).get((name, tuple(sorted(labels.items()))))


# ---- transactions ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "cancelled", "kind"),
    [
        (101, False, "sale"),
        (101, True, "cancelled"),
        (-101, False, "cancelled"),
        (102, False, "return"),
        (201, False, "void_sale"),
        (202, False, "void_return"),
        (202, True, "void_return"),  # only a sale can be a cancelled sale
        (999, False, "type_999"),
    ],
)
def test_transaction_kind(code: int, cancelled: bool, kind: str) -> None:
    assert transaction_kind(code, cancelled=cancelled) == kind


def test_transactions_count_and_sum_per_kind() -> None:
    m = Metrics("cart", process=False)
    m.transaction("sale", 1100.0)
    m.transaction("sale", 338.5)
    m.transaction("return", 1100.0)
    m.transaction("cancelled", 0.0)
    assert value(m, "kugelpos_transactions_total", service="cart", type="sale") == 2
    assert value(m, "kugelpos_transaction_amount_total", service="cart", type="sale") == 1438.5
    assert value(m, "kugelpos_transaction_amount_total", service="cart", type="return") == 1100
    assert value(m, "kugelpos_transactions_total", service="cart", type="cancelled") == 1


def test_a_negative_total_is_counted_but_never_subtracted() -> None:
    m = Metrics("cart", process=False)
    m.transaction("sale", 500.0)
    m.transaction("sale", -20.0)
    assert value(m, "kugelpos_transactions_total", service="cart", type="sale") == 2
    assert value(m, "kugelpos_transaction_amount_total", service="cart", type="sale") == 500


# ---- events ----------------------------------------------------------------------------------

NOW = datetime(2026, 4, 1, 3, 0, 0, tzinfo=UTC)


def test_event_age_prefers_the_generate_time() -> None:
    generated = "2026-04-01T11:59:58+09:00"  # 2 s before NOW, in the store's zone
    assert event_age_seconds(generated, "2026-04-01T02:59:59Z", now=NOW) == 2.0


def test_event_age_falls_back_to_the_publish_time() -> None:
    assert event_age_seconds("2026-04-01T11:59:58", "2026-04-01T02:59:59.5Z", now=NOW) == 0.5
    assert event_age_seconds(None, NOW - timedelta(seconds=3), now=NOW) == 3.0
    assert event_age_seconds("not a time", None, now=NOW) is None
    assert event_age_seconds(None, None, now=NOW) is None


def test_event_age_is_never_negative() -> None:
    assert event_age_seconds((NOW + timedelta(seconds=5)).isoformat(), now=NOW) == 0.0


def test_events_counted_by_outcome_and_age_observed() -> None:
    m = Metrics("journal", process=False)
    m.event("tranlog_report", "applied", 0.3)
    m.event("tranlog_report", "duplicate")
    m.event("tranlog_report", "duplicate")
    labels = {"service": "journal", "topic": "tranlog_report"}
    assert value(m, "kugelpos_events_consumed_total", outcome="applied", **labels) == 1
    assert value(m, "kugelpos_events_consumed_total", outcome="duplicate", **labels) == 2
    assert value(m, "kugelpos_event_age_seconds_count", **labels) == 1
    assert value(m, "kugelpos_event_age_seconds_bucket", le="0.25", **labels) == 0
    assert value(m, "kugelpos_event_age_seconds_bucket", le="0.5", **labels) == 1


# ---- breakers --------------------------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_breaker_state_code_and_trips() -> None:
    clock = Clock()
    breaker = CircuitBreaker(failure_threshold=2, reset_timeout=10, clock=clock)
    assert (breaker.state_code, breaker.trips) == (0, 0)
    breaker.record_failure()
    breaker.record_failure()
    breaker.record_failure()  # a call let through before it opened: not a second trip
    assert (breaker.state_code, breaker.trips) == (2, 1)
    clock.now = 10
    assert breaker.state_code == 1
    assert breaker.allow()
    breaker.record_failure()  # the half-open trial failed: open again
    assert (breaker.state_code, breaker.trips) == (2, 2)
    clock.now = 20
    assert breaker.allow()
    breaker.record_success()
    assert (breaker.state_code, breaker.trips) == (0, 2)


def test_breakers_exported_per_target() -> None:
    registry = BreakerRegistry(failure_threshold=1, reset_timeout=60)
    m = Metrics("cart", process=False)
    m.watch_breakers(registry.items)
    registry.for_target("http://127.0.0.1:3500")
    registry.for_target("http://127.0.0.1:8002").record_failure()
    sidecar = {"service": "cart", "target": "http://127.0.0.1:3500"}
    master = {"service": "cart", "target": "http://127.0.0.1:8002"}
    assert value(m, "kugelpos_breaker_state", **sidecar) == 0
    assert value(m, "kugelpos_breaker_state", **master) == 2
    assert value(m, "kugelpos_breaker_trips_total", **master) == 1
    assert value(m, "kugelpos_breaker_trips_total", **sidecar) == 0


# ---- process ---------------------------------------------------------------------------------


def test_process_and_platform_metrics_in_each_registry() -> None:
    a, b = Metrics("a"), Metrics("b")
    for m in (a, b):
        names = {name for name, _ in samples(m)}
        assert {"process_cpu_seconds_total", "process_resident_memory_bytes"} <= names
        assert {"process_open_fds", "python_info"} <= names


# ---- scrape hooks ----------------------------------------------------------------------------


async def test_a_scrape_hook_runs_at_most_once_per_interval() -> None:
    m = Metrics("cart", process=False)
    runs = 0

    async def hook() -> None:
        nonlocal runs
        runs += 1
        m.outbox(pending=runs, unacknowledged=0, oldest_seconds=0)

    m.on_scrape(hook, min_interval=60)
    await asyncio.gather(m.render_async(), m.render_async())
    await m.render_async()
    assert runs == 1
    assert value(m, "kugelpos_outbox_backlog", service="cart", state="pending") == 1


async def test_a_failing_or_hung_hook_keeps_the_last_values(monkeypatch) -> None:
    monkeypatch.setattr(metrics_module, "SCRAPE_HOOK_TIMEOUT_SECONDS", 0.05)
    m = Metrics("cart", process=False)
    m.outbox(pending=3, unacknowledged=1, oldest_seconds=9.0)

    async def broken() -> None:
        raise RuntimeError("database down")

    async def hung() -> None:
        await asyncio.sleep(10)

    m.on_scrape(broken, min_interval=0)
    m.on_scrape(hung, min_interval=0)
    body = (await m.render_async()).decode()
    assert 'kugelpos_outbox_backlog{service="cart",state="pending"} 3.0' in body
    assert value(m, "kugelpos_outbox_oldest_unacknowledged_seconds", service="cart") == 9.0


# ---- outbox backlog (session MongoDB) ----------------------------------------------------------


@pytest.fixture
async def outbox(mongo_uri):
    client = AsyncMongoClient(mongo_uri, tz_aware=True)
    db = client[f"db_metricstest_{secrets.token_hex(4)}"]
    box = Outbox(db, consumers={"tranlog_report": ["journal"], "cashlog_report": []})
    await box.ensure_indexes()
    yield box
    await client.drop_database(db.name)
    await client.close()


async def _published(box: Outbox, event_id: str, *, recheck: bool) -> None:
    """What the relay writes after a successful publish."""
    now = utcnow()
    await box.collection.update_one(
        {"event_id": event_id},
        {
            "$set": {
                "relay_status": RelayStatus.PUBLISHED.value,
                "status": "published",
                "published_at": now,
                "recheck_at": now + timedelta(seconds=300) if recheck else None,
            }
        },
    )


async def test_outbox_backlog_follows_an_event_from_pending_to_delivered(outbox: Outbox) -> None:
    empty = await outbox.backlog()
    assert (empty.pending, empty.unacknowledged, empty.oldest_seconds) == (0, 0, 0.0)

    first = await outbox.add(None, topic="tranlog_report", payload={}, tenant_id="T1")
    await outbox.collection.update_one(
        {"event_id": first.event_id}, {"$set": {"created_at": utcnow() - timedelta(seconds=30)}}
    )
    await outbox.add(None, topic="tranlog_report", payload={}, tenant_id="T2")
    backlog = await outbox.backlog()
    assert (backlog.pending, backlog.unacknowledged) == (2, 0)
    assert 30 <= backlog.oldest_seconds < 40

    await _published(outbox, first.event_id, recheck=True)
    backlog = await outbox.backlog()
    assert (backlog.pending, backlog.unacknowledged) == (1, 1)
    assert 30 <= backlog.oldest_seconds < 40  # published is not acknowledged

    await outbox.acknowledge(first.event_id, "journal", "received")
    backlog = await outbox.backlog()
    assert (backlog.pending, backlog.unacknowledged) == (1, 0)
    assert backlog.oldest_seconds < 5  # the second, younger event is the oldest now


async def test_a_topic_nobody_acknowledges_is_done_once_published(outbox: Outbox) -> None:
    record = await outbox.add(None, topic="cashlog_report", payload={}, tenant_id="T1")
    await _published(outbox, record.event_id, recheck=False)
    backlog = await outbox.backlog()
    assert (backlog.pending, backlog.unacknowledged, backlog.oldest_seconds) == (0, 0, 0.0)


async def test_a_given_up_event_leaves_the_backlog(outbox: Outbox) -> None:
    record = await outbox.add(None, topic="tranlog_report", payload={}, tenant_id="T1")
    await _published(outbox, record.event_id, recheck=True)
    await outbox.collection.update_one(
        {"event_id": record.event_id},
        {"$set": {"gave_up": True, "status": "failed", "recheck_at": None}},
    )
    backlog = await outbox.backlog()
    assert (backlog.pending, backlog.unacknowledged, backlog.oldest_seconds) == (0, 0, 0.0)


async def test_given_up_events_have_their_own_gauge(outbox: Outbox) -> None:
    record = await outbox.add(None, topic="tranlog_report", payload={}, tenant_id="T1")
    await _published(outbox, record.event_id, recheck=True)
    # journal made it a dead letter: nobody left will take it.
    await outbox.acknowledge(record.event_id, "journal", "failed", "dead letter", final=True)
    backlog = await outbox.backlog()
    assert (backlog.given_up, backlog.unacknowledged, backlog.oldest_seconds) == (1, 0, 0.0)
    m = Metrics("cart")
    m.outbox(
        pending=backlog.pending,
        unacknowledged=backlog.unacknowledged,
        oldest_seconds=backlog.oldest_seconds,
        given_up=backlog.given_up,
    )
    assert value(m, "kugelpos_outbox_given_up", service="cart") == 1
