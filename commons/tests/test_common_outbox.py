"""The outbox, its relay and delivery tracking, against the session MongoDB with a fake
sidecar (an httpx mock transport): claim/lease, retry with backoff, republish of what is not
acknowledged, give-up, acknowledgements, and the Dapr subscription helper."""

from __future__ import annotations

import asyncio
import json
import secrets
from datetime import timedelta

import httpx
import pytest
from bson import ObjectId
from fastapi import FastAPI
from pymongo import AsyncMongoClient, monitoring
from pymongo.errors import OperationFailure

from kugelpos.common.clients.breaker import BreakerRegistry
from kugelpos.common.clients.dapr import DaprClientHelper
from kugelpos.common.clients.http import HttpClientHelper
from kugelpos.common.clock import utcnow
from kugelpos.common.db.mongo import Mongo
from kugelpos.common.events import (
    ACK_TOPIC,
    Acknowledgement,
    CloudEvent,
    DaprSubscriptions,
    Outbox,
    OutboxRelay,
    Outcome,
    acknowledgement_handler,
)
from kugelpos.common.events.acks import ack_batcher
from kugelpos.common.events.config import OutboxSettings
from kugelpos.common.events.outbox import AckOutcome
from kugelpos.common.events.publisher import OutboxEvents
from kugelpos.common.observability.health import HealthStatus, UnhealthyError, run_checks
from kugelpos.common.settings import CommonSettings


class FakeSidecar:
    def __init__(self) -> None:
        self.published: list[tuple[str, dict]] = []
        self.down = False
        self.refuse_after: int | None = None  # goes down once it has taken this many

    def handler(self, request: httpx.Request) -> httpx.Response:
        if self.refuse_after is not None and len(self.published) >= self.refuse_after:
            self.down = True
        if self.down:
            raise httpx.ConnectError("sidecar down", request=request)
        topic = request.url.path.rsplit("/", 1)[-1]
        self.published.append((topic, json.loads(request.content)))
        return httpx.Response(204)

    def count(self, event_id: str) -> int:
        return sum(1 for _, body in self.published if body.get("event_id") == event_id)


@pytest.fixture
async def db(mongo_uri):
    client = AsyncMongoClient(mongo_uri, tz_aware=True)
    yield client[f"db_outboxtest_{secrets.token_hex(4)}"]
    await client.close()


@pytest.fixture
def sidecar() -> FakeSidecar:
    return FakeSidecar()


@pytest.fixture
async def dapr(sidecar):
    http = HttpClientHelper(
        max_attempts=1,
        transport=httpx.MockTransport(sidecar.handler),
        breakers=BreakerRegistry(failure_threshold=1000),  # never opens in these tests
    )
    yield DaprClientHelper(http, "http://sidecar")
    await http.aclose()


async def _add(outbox: Outbox, topic: str = "cashlog_report") -> str:
    record = await outbox.add(None, topic=topic, payload={"amount": 1}, tenant_id="T1")
    return record.event_id


async def test_each_event_is_published_once_by_competing_relays(db, dapr, sidecar) -> None:
    outbox = Outbox(db, consumers={"cashlog_report": ["report"]})
    await outbox.ensure_indexes()
    ids = [await _add(outbox) for _ in range(20)]
    relays = [OutboxRelay(outbox, dapr, owner=f"r{i}") for i in range(3)]
    await asyncio.gather(*(r.run_once() for r in relays))
    await asyncio.gather(*(r.run_once() for r in relays))
    assert [sidecar.count(i) for i in ids] == [1] * 20
    record = await outbox.get(ids[0])
    assert record.relay_status == "published" and record.status == "published"
    assert record.publish_count == 1 and record.lease_owner is None


async def test_failed_publish_is_retried_with_backoff(db, dapr, sidecar) -> None:
    outbox = Outbox(db)
    event_id = await _add(outbox)
    relay = OutboxRelay(outbox, dapr, retry_base=0.2, retry_max=0.2)
    sidecar.down = True
    assert await relay.run_once() == 0
    record = await outbox.get(event_id)
    assert record.relay_status == "pending" and record.attempts == 1 and record.last_error
    sidecar.down = False
    assert await relay.run_once() == 0  # not due yet
    await asyncio.sleep(0.25)
    assert await relay.run_once() == 1
    assert sidecar.count(event_id) == 1


async def test_an_expired_lease_is_taken_over(db, dapr, sidecar) -> None:
    outbox = Outbox(db)
    event_id = await _add(outbox)
    dead = OutboxRelay(outbox, dapr, owner="dead", lease_seconds=0.1)
    assert await dead.claim() is not None  # claimed, then the relay "dies"
    alive = OutboxRelay(outbox, dapr, owner="alive")
    assert await alive.run_once() == 0
    await asyncio.sleep(0.15)
    assert await alive.run_once() == 1
    assert sidecar.count(event_id) == 1


async def test_unacknowledged_events_are_republished_until_given_up(db, dapr, sidecar) -> None:
    outbox = Outbox(db, consumers={"cashlog_report": ["report", "journal"]})
    event_id = await _add(outbox)
    relay = OutboxRelay(outbox, dapr, ack_timeout=0.1)
    await relay.run_once()
    await outbox.acknowledge(event_id, "report", "received")
    await asyncio.sleep(0.15)
    await relay.run_once()
    assert sidecar.count(event_id) == 2  # journal never acknowledged
    assert (await outbox.get(event_id)).status == "partially_delivered"
    await outbox.acknowledge(event_id, "journal", "received")
    await asyncio.sleep(0.15)
    await relay.run_once()
    assert sidecar.count(event_id) == 2
    assert (await outbox.get(event_id)).status == "delivered"
    # An old event nobody acknowledges is given up (failed) and left alone.
    old = await _add(outbox)
    await relay.run_once()
    await outbox.collection.update_one(
        {"event_id": old}, {"$set": {"created_at": utcnow() - timedelta(days=2)}}
    )
    await relay.run_once()
    record = await outbox.get(old)
    assert record.gave_up and record.status == "failed"


async def test_republishing_backs_off_and_stops_once_delivered(db, dapr, sidecar) -> None:
    outbox = Outbox(db, consumers={"cashlog_report": ["report"]})
    await outbox.ensure_indexes()
    event_id = await _add(outbox)
    relay = OutboxRelay(outbox, dapr, ack_timeout=0.1, ack_timeout_max=0.3)

    async def wait_after_last_publish() -> float:
        record = await outbox.get(event_id)
        return (record.recheck_at - record.published_at).total_seconds()

    assert await relay.run_once() == 1
    waits = [round(await wait_after_last_publish(), 2)]
    for _ in range(3):
        record = await outbox.get(event_id)
        await asyncio.sleep(max(0.0, (record.recheck_at - utcnow()).total_seconds()) + 0.02)
        assert await relay.run_once() == 1
        waits.append(round(await wait_after_last_publish(), 2))
    assert waits == [0.1, 0.2, 0.3, 0.3]  # doubled after each republish, capped
    await outbox.acknowledge(event_id, "report", "received")
    record = await outbox.get(event_id)
    assert record.status == "delivered" and record.recheck_at is None
    assert sidecar.count(event_id) == 4


async def test_an_idle_relay_sleeps_until_something_is_due(db, dapr, sidecar) -> None:
    outbox = Outbox(db, consumers={"cashlog_report": ["report"], "other": []})
    await outbox.ensure_indexes()
    relay = OutboxRelay(outbox, dapr, poll_interval=30, ack_timeout=600)
    assert await relay.next_due_in() == 30  # nothing at all: the safety-net poll only
    await _add(outbox, "other")
    assert await relay.next_due_in() == 0  # a pending event is due now
    await relay.run_once()
    assert await relay.next_due_in() == 30  # published, no consumer to wait for
    await _add(outbox)
    await relay.run_once()
    assert 590 < await relay.next_due_in() <= 600  # its recheck, not a poll


async def test_new_events_go_before_a_republish_backlog(db, dapr, sidecar) -> None:
    outbox = Outbox(db, consumers={"cashlog_report": ["report"]})
    await outbox.ensure_indexes()
    backlog = [await _add(outbox) for _ in range(30)]
    relay = OutboxRelay(outbox, dapr, ack_timeout=600, batch_size=100, poll_interval=0.05)
    assert await relay.run_once() == 30
    # Nobody acknowledged: the whole backlog is now due for a recheck (the relay looks for
    # rechecks it did not set itself once per poll interval).
    await outbox.collection.update_many({}, {"$set": {"recheck_at": utcnow()}})
    await asyncio.sleep(0.06)
    fresh = await _add(outbox)
    relay.batch_size = 1
    assert await relay.run_once() == 1
    assert sidecar.count(fresh) == 1
    assert sum(sidecar.count(e) for e in backlog) == 30  # none republished yet
    relay.batch_size = 100
    assert await relay.run_once() == 30
    assert [sidecar.count(e) for e in backlog] == [2] * 30


async def test_rechecks_another_replica_set_are_found_within_the_poll_interval(db, dapr, sidecar):
    outbox = Outbox(db, consumers={"cashlog_report": ["report"]})
    await outbox.ensure_indexes()
    watcher = OutboxRelay(outbox, dapr, owner="a", poll_interval=0.3, ack_timeout=600)
    assert await watcher.run_once() == 0  # looked: nothing awaited
    event_id = await _add(outbox)
    other = OutboxRelay(outbox, dapr, owner="b", ack_timeout=0.05)
    assert await other.run_once() == 1
    await asyncio.sleep(0.1)  # due for a recheck, set by the other replica
    assert 0 < await watcher.next_due_in() <= 0.3
    await asyncio.sleep(await watcher.next_due_in())
    assert await watcher.run_once() == 1
    assert sidecar.count(event_id) == 2


class CommandLog(monitoring.CommandListener):
    def __init__(self) -> None:
        self.commands: list[tuple[str, dict]] = []

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if event.command_name not in {"hello", "isMaster", "ismaster", "ping", "endSessions"}:
            self.commands.append((event.command_name, dict(event.command)))

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass

    def write_filters(self) -> list[dict]:
        filters = []
        for name, command in self.commands:
            if name == "findAndModify":
                filters.append(command["query"])
            elif name == "update":
                filters.extend(u["q"] for u in command["updates"])
        return filters


async def test_a_round_claims_and_marks_a_batch_by_id_in_a_few_commands(mongo_uri, dapr, sidecar):
    # One round of 40 new events: a handful of commands in all, not several per event (every
    # command waits its turn behind the tills' transactions: the relay fell behind ten tills
    # when it claimed and marked once per event), and every write is addressed by `_id`.
    log = CommandLog()
    client = AsyncMongoClient(mongo_uri, tz_aware=True, event_listeners=[log])
    try:
        outbox = Outbox(client[f"db_outboxtest_{secrets.token_hex(4)}"], consumers={"t": ["a"]})
        await outbox.ensure_indexes()
        ids = [await _add(outbox, "t") for _ in range(40)]
        relay = OutboxRelay(outbox, dapr, batch_size=100)
        log.commands.clear()
        assert await relay.run_once() == 40
        assert len(log.commands) <= 12, [name for name, _ in log.commands]
        writes = log.write_filters()
        assert writes and all(set(f["_id"]["$in"]) == set(ids) for f in writes)
        assert [sidecar.count(i) for i in ids] == [1] * 40
        published = [await outbox.get(i) for i in ids]
        assert {(r.relay_status, r.status, r.publish_count) for r in published} == {
            ("published", "published", 1)
        }
        assert all(r.lease_owner is None and r.lease_token is None for r in published)
    finally:
        await client.close()


async def test_records_written_before_id_was_the_event_id_are_still_served(db, dapr, sidecar):
    outbox = Outbox(db, consumers={"t": ["a"]})
    legacy = await outbox.add(None, topic="t", payload={"amount": 1}, tenant_id="T1")
    raw = await outbox.collection.find_one({"_id": legacy.event_id})
    await outbox.collection.delete_one({"_id": legacy.event_id})
    await outbox.collection.insert_one({**raw, "_id": ObjectId()})  # as older releases wrote
    relay = OutboxRelay(outbox, dapr)
    assert await relay.run_once() == 1
    record = await outbox.acknowledge(legacy.event_id, "a", "received")
    assert record is not None and record.status == "delivered"
    assert sidecar.count(legacy.event_id) == 1


async def test_an_acknowledgement_before_the_mark_keeps_its_status(db, dapr, sidecar) -> None:
    outbox = Outbox(db, consumers={"t": ["report"]})
    event_id = await _add(outbox, "t")
    relay = OutboxRelay(outbox, dapr)
    records, _ = await relay._claim(10)
    # The consumer is fast: it acknowledges before the relay has marked the event published.
    await outbox.acknowledge(event_id, "report", "received")
    assert await relay._publish_all(records) == 1
    record = await outbox.get(event_id)
    assert record.status == "delivered" and record.relay_status == "published"


async def test_a_refusal_mid_batch_delays_the_rest_and_loses_nothing(db, dapr, sidecar) -> None:
    outbox = Outbox(db)
    ids = [await _add(outbox) for _ in range(6)]
    relay = OutboxRelay(outbox, dapr, retry_base=0.2, retry_max=0.2)
    sidecar.refuse_after = 2
    assert await relay.run_once() == 2
    states = [await outbox.get(i) for i in ids]
    assert [r.relay_status for r in states] == ["published"] * 2 + ["pending"] * 4
    assert [r.attempts for r in states] == [0, 0, 1, 1, 1, 1]
    assert all(r.last_error for r in states[2:])
    assert all(r.lease_owner is None for r in states)
    sidecar.down, sidecar.refuse_after = False, None
    assert await relay.run_once() == 0  # not due yet
    await asyncio.sleep(0.25)
    assert await relay.run_once() == 4
    assert [sidecar.count(i) for i in ids] == [1] * 6


async def test_acknowledgement_rules(db) -> None:
    outbox = Outbox(db, consumers={"t": ["report", "journal"]})
    event_id = await _add(outbox, "t")
    assert await outbox.acknowledge("unknown", "report", "received") is None
    record = await outbox.acknowledge(event_id, "stranger", "received")
    assert record.status == "pending"
    record = await outbox.acknowledge(event_id, "report", "failed")
    record = await outbox.acknowledge(event_id, "journal", "failed")
    assert record.status == "failed"
    record = await outbox.acknowledge(event_id, "report", "received")
    assert record.status == "partially_delivered"
    record = await outbox.acknowledge(event_id, "report", "failed")
    assert record.consumers[0].status == "received"
    results = await asyncio.gather(
        *(outbox.acknowledge(event_id, "journal", "received") for _ in range(5))
    )
    assert results[-1] is not None
    assert (await outbox.get(event_id)).status == "delivered"


async def test_repeated_acknowledgements_write_nothing(db) -> None:
    # Redeliveries acknowledge again; the record keeps the first receipt and is not rewritten.
    outbox = Outbox(db, consumers={"t": ["report", "journal"]})
    event_id = await _add(outbox, "t")
    first = await outbox.acknowledge(event_id, "report", "received")
    assert first is not None
    for status in ("received", "failed"):
        again = await outbox.acknowledge(event_id, "report", status)
        assert again is not None and again.version == first.version
        assert again.consumers[0].received_at == first.consumers[0].received_at
    assert (await outbox.acknowledge(event_id, "stranger", "received")).version == first.version
    delivered = await outbox.acknowledge(event_id, "journal", "received")
    assert delivered is not None and delivered.status == "delivered"


async def test_concurrent_acknowledgements_are_written_together_and_all_recorded(mongo_uri):
    # Three consumers acknowledge twenty events at once (and some acknowledge twice, and
    # another publisher's events are heard too): every caller returns after its own ack is
    # recorded, every event ends delivered, and the writes are grouped, not one per ack.
    log = CommandLog()
    client = AsyncMongoClient(mongo_uri, tz_aware=True, event_listeners=[log])
    try:
        outbox = Outbox(
            client[f"db_outboxtest_{secrets.token_hex(4)}"], consumers={"t": ["a", "b", "c"]}
        )
        await outbox.ensure_indexes()
        ids = [await _add(outbox, "t") for _ in range(20)]
        acks = [
            Acknowledgement(event_id=e, service=s, status="received")
            for e in ids
            for s in ("a", "b", "c")
        ]
        acks += [Acknowledgement(event_id=ids[0], service="a", status="failed")]  # late, ignored
        acks += [Acknowledgement(event_id="someone-elses", service="a", status="received")]
        batcher = ack_batcher(outbox)
        log.commands.clear()
        results = await asyncio.gather(*(batcher.submit(ack) for ack in acks))
        assert results[-1] is None  # not this outbox's event
        assert all(r is not None for r in results[:-1])
        records = [await outbox.get(e) for e in ids]
        assert {r.status for r in records} == {"delivered"}
        assert all(c.status == "received" for r in records for c in r.consumers)
        writes = [name for name, _ in log.commands if name in ("update", "findAndModify")]
        assert len(writes) <= 4, writes  # 61 acks: grouped into a few writes
    finally:
        await client.close()


async def test_a_batch_that_meets_a_concurrent_write_still_records_every_ack(db) -> None:
    outbox = Outbox(db, consumers={"t": ["a", "b"]})
    ids = [await _add(outbox, "t") for _ in range(3)]
    original = outbox.collection.find

    def find_then_race(*args, **kwargs):
        cursor = original(*args, **kwargs)
        to_list = cursor.to_list

        async def read_then_someone_writes(*a, **k):
            found = await to_list(*a, **k)
            # Between our read and our write another writer moves one record's version.
            await outbox.collection.update_one({"event_id": ids[1]}, {"$inc": {"version": 1}})
            return found

        cursor.to_list = read_then_someone_writes
        return cursor

    outbox.collection.find = find_then_race  # type: ignore[method-assign]
    records = await outbox.acknowledge_many([(e, "a", "received", None) for e in ids])
    outbox.collection.find = original  # type: ignore[method-assign]
    assert sorted(records) == sorted(ids)
    for event_id in ids:
        record = await outbox.get(event_id)
        assert [c.status for c in record.consumers] == ["received", "pending"]
        assert record.status == "partially_delivered"


async def test_relay_task_starts_wakes_and_stops(db, dapr, sidecar) -> None:
    outbox = Outbox(db)
    relay = OutboxRelay(outbox, dapr, poll_interval=30)
    relay.start()
    try:
        event_id = await _add(outbox)
        outbox.notify_added()  # wakes the relay long before its poll interval
        for _ in range(50):
            if sidecar.count(event_id):
                break
            await asyncio.sleep(0.05)
        assert sidecar.count(event_id) == 1
    finally:
        await relay.stop()
    assert not relay.running


@pytest.fixture
async def mongo(mongo_uri):
    client = Mongo(
        CommonSettings(environment="development", mongodb_uri=mongo_uri), "db_outboxtest"
    )
    yield client
    await client.close()


@pytest.fixture
async def t_outbox(mongo) -> Outbox:
    """An outbox whose topic `t` is acknowledged by report, in the `mongo` fixture's database."""
    outbox = Outbox(mongo.commons_db(), consumers={"t": ["report"]})
    await outbox.ensure_indexes()
    return outbox


async def _committed(outbox: Outbox, mongo: Mongo, *, topic: str = "t", fail_first: int = 0):
    """One event added in `outbox.transaction`; the first `fail_first` attempts meet a write
    conflict after the insert (the retried transaction writes it again)."""
    event_id = secrets.token_hex(8)
    attempts = 0

    async def work(session) -> None:
        nonlocal attempts
        attempts += 1
        await outbox.add(
            session, topic=topic, payload={"amount": 1}, tenant_id="T1", event_id=event_id
        )
        if attempts <= fail_first:
            raise OperationFailure("Write conflict during plan execution", code=112)

    await outbox.transaction(mongo, work)
    return event_id


async def _until(check, seconds: float = 3.0) -> None:
    for _ in range(int(seconds / 0.02)):
        if await check():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("condition not reached")


async def test_a_committed_event_is_published_by_its_relay_without_a_round(
    t_outbox, mongo, dapr, sidecar
) -> None:
    # The relay publishes what a commit hands it as it is: no look-up of what is due, no
    # claim (those queued behind the tills' bills at the server: 0.8 s at ten tills).
    outbox = t_outbox
    relay = OutboxRelay(outbox, dapr, poll_interval=30)
    relay.start()
    try:
        await _until(lambda: asyncio.sleep(0, relay.rounds == 1))  # the start's round
        event_id = await _committed(outbox, mongo)
        await _until(lambda: asyncio.sleep(0, sidecar.count(event_id) == 1))

        async def marked() -> bool:
            record = await outbox.get(event_id)
            return record.relay_status == "published"

        await _until(marked)
        record = await outbox.get(event_id)
        assert record.status == "published" and record.publish_count == 1
        assert record.lease_owner is None and record.recheck_at is not None
        assert relay.rounds == 1  # published and marked without another round
    finally:
        await relay.stop()


async def test_a_committed_event_is_leased_to_its_relay_and_taken_over_if_it_dies(
    t_outbox, mongo, dapr, sidecar
) -> None:
    outbox = t_outbox
    # The writing process's relay dies between the commit and the publish.
    outbox.publish_directly("dead", lease_seconds=0.3)
    event_id = await _committed(outbox, mongo)
    raw = await outbox.collection.find_one({"_id": event_id})
    assert raw["relay_status"] == "publishing" and raw["lease_owner"] == "dead"
    alive = OutboxRelay(outbox, dapr, owner="alive")
    assert await alive.run_once() == 0  # leased: nobody else publishes it meanwhile
    await asyncio.sleep(0.35)
    assert await alive.run_once() == 1
    assert sidecar.count(event_id) == 1
    assert (await outbox.get(event_id)).relay_status == "published"


async def test_only_the_attempt_that_committed_is_handed_to_the_relay(
    t_outbox, mongo, dapr
) -> None:
    outbox = t_outbox
    handed: list[list[str]] = []
    outbox.on_added(lambda records: handed.append([r.event_id for r in records]))
    event_id = await _committed(outbox, mongo, fail_first=2)
    assert handed == [[event_id]]
    assert await outbox.collection.count_documents({"event_id": event_id}) == 1


async def test_a_refused_direct_publish_backs_off_and_a_round_retries_it(
    t_outbox, mongo, dapr, sidecar
) -> None:
    outbox = t_outbox
    relay = OutboxRelay(outbox, dapr, poll_interval=30, retry_base=0.2, retry_max=0.2)
    relay.start()
    try:
        sidecar.down = True
        event_id = await _committed(outbox, mongo)

        async def backed_off() -> bool:
            record = await outbox.get(event_id)
            return record.attempts == 1 and record.relay_status == "pending"

        await _until(backed_off)
        sidecar.down = False
        await _until(lambda: asyncio.sleep(0, sidecar.count(event_id) == 1))
        await asyncio.sleep(0.3)
        assert sidecar.count(event_id) == 1
    finally:
        await relay.stop()


async def test_a_directly_published_event_is_rechecked_when_its_acknowledgement_is_due(
    t_outbox, mongo, dapr, sidecar
) -> None:
    outbox = t_outbox
    relay = OutboxRelay(outbox, dapr, poll_interval=30, ack_timeout=0.2, ack_timeout_max=0.2)
    relay.start()
    try:
        event_id = await _committed(outbox, mongo)  # nobody acknowledges it
        await _until(lambda: asyncio.sleep(0, sidecar.count(event_id) >= 2))
    finally:
        await relay.stop()


class _TerminalLikeSettings(OutboxSettings):
    @property
    def event_consumers(self) -> dict[str, list[str]]:
        return {"cashlog_report": ["report", "journal"], "opencloselog_report": ["journal"]}


def test_a_publisher_subscribes_only_to_the_acknowledgements_of_its_topics() -> None:
    from kugelpos.sidecar.subscriptions import matches  # the local sidecar's evaluator

    events = OutboxEvents(_TerminalLikeSettings(environment="development"))
    (declared,) = [d for d in events.subscriptions.declaration() if d["topic"] == ACK_TOPIC]
    assert "route" not in declared and "default" not in declared["routes"]
    (rule,) = declared["routes"]["rules"]
    assert rule["path"] == f"/events/{ACK_TOPIC}"

    def delivered(data: dict) -> bool:
        return matches(rule["match"], {"type": "com.dapr.event.sent", "data": data})

    ack = {"event_id": "e1", "service": "journal", "status": "received"}
    assert delivered({**ack, "topic": "cashlog_report"})
    assert delivered({**ack, "topic": "opencloselog_report"})
    assert not delivered({**ack, "topic": "tranlog_report"})  # the cart's
    assert delivered(ack)  # an older consumer's, without a topic: looked up as before
    # Told of no consumers: every acknowledgement, through a plain route.
    plain = OutboxEvents(OutboxSettings(environment="development"))
    (declared,) = [d for d in plain.subscriptions.declaration() if d["topic"] == ACK_TOPIC]
    assert declared["route"] == f"/events/{ACK_TOPIC}" and "routes" not in declared


async def test_subscriptions_declare_and_route_cloudevents(db) -> None:
    outbox = Outbox(db, consumers={"t": ["report"]})
    event_id = await _add(outbox, "t")
    subs = DaprSubscriptions(pubsub="pubsub")
    subs.add(ACK_TOPIC, acknowledgement_handler(outbox))
    seen: list[CloudEvent] = []

    @subs.subscribe("boom")
    async def boom(event: CloudEvent) -> Outcome:
        seen.append(event)
        raise RuntimeError("handler bug")

    app = FastAPI()
    app.include_router(subs.router())
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://app") as client:
        declared = (await client.get("/dapr/subscribe")).json()
        assert {"pubsubname": "pubsub", "topic": ACK_TOPIC, "route": f"/events/{ACK_TOPIC}"} in (
            declared
        )
        ack = {"event_id": event_id, "service": "report", "status": "received"}
        cloudevent = {"specversion": "1.0", "id": "x", "type": "t", "source": "s", "data": ack}
        r = await client.post(f"/events/{ACK_TOPIC}", json=cloudevent)
        assert r.json() == {"status": "SUCCESS"}
        assert (await outbox.get(event_id)).status == "delivered"
        r = await client.post(f"/events/{ACK_TOPIC}", json={**cloudevent, "data": {"x": 1}})
        assert r.json() == {"status": "DROP"}
        r = await client.post(f"/events/{ACK_TOPIC}", json={**ack, "event_id": "other"})
        assert r.json() == {"status": "SUCCESS"}  # raw payload; another publisher's event
        r = await client.post("/events/boom", json=cloudevent)
        assert r.json() == {"status": "RETRY"} and seen[0].data == ack


async def test_an_acknowledgement_of_a_topic_this_outbox_does_not_publish_reads_nothing(
    mongo_uri,
) -> None:
    # Every publisher receives every acknowledgement; at 10 tills the terminal looked up
    # about three foreign acks per sale in its outbox. An ack that names its topic is skipped
    # without a command when this outbox has no consumers for that topic.
    log = CommandLog()
    client = AsyncMongoClient(mongo_uri, tz_aware=True, event_listeners=[log])
    try:
        outbox = Outbox(client[f"db_outboxtest_{secrets.token_hex(4)}"], consumers={"t": ["a"]})
        await outbox.ensure_indexes()
        mine = await _add(outbox, "t")
        handle = acknowledgement_handler(outbox)

        def delivery(**ack: str) -> CloudEvent:
            body = {"specversion": "1.0", "id": "x", "type": "t", "source": "s", "data": ack}
            return CloudEvent.parse(body, topic=ACK_TOPIC, pubsub="pubsub")

        before = await outbox.get(mine)
        log.commands.clear()
        foreign = delivery(event_id=mine, service="a", status="received", topic="other")
        assert await handle(foreign) == Outcome.SUCCESS
        assert log.commands == []
        assert (await outbox.get(mine)).consumers == before.consumers  # untouched
        # The same ack naming this outbox's topic, and one without a topic (older consumers),
        # are looked up and recorded.
        assert await handle(delivery(event_id=mine, service="a", status="received", topic="t"))
        assert (await outbox.get(mine)).status == "delivered"
        other = await _add(outbox, "t")
        assert await handle(delivery(event_id=other, service="a", status="received"))
        assert (await outbox.get(other)).status == "delivered"
    finally:
        await client.close()


# ---- /health: background_jobs (issue 8) --------------------------------------------------------


async def test_outbox_events_report_the_relay_as_background_jobs(db, dapr, sidecar) -> None:
    """Every service publishing through `OutboxEvents` gets the `background_jobs` check v1
    monitoring reads: healthy while the relay runs, v1's keys (`scheduler_running`,
    `job_count`, `job_names`) describing it, backlog and last round in the details, and it
    publishes nothing."""
    events = OutboxEvents(OutboxSettings(environment="development"))
    check = events.health_checks(None)["background_jobs"]  # type: ignore[arg-type]
    with pytest.raises(RuntimeError):
        await check()  # not started: unhealthy
    stopped = (await run_checks("svc", "1", {"background_jobs": check})).checks["background_jobs"]
    assert stopped.status is HealthStatus.UNHEALTHY
    assert stopped.error == "background_jobs: not running: outbox_relay"
    assert stopped.details is not None
    assert stopped.details["scheduler_running"] is False
    assert (stopped.details["job_count"], stopped.details["job_names"]) == (0, [])
    outbox = Outbox(db)
    await outbox.ensure_indexes()
    events.outbox, events.relay = outbox, OutboxRelay(outbox, dapr, poll_interval=0.05)
    sidecar.down = True  # nothing gets out: the backlog shows it
    await _add(outbox)
    events.relay.start()
    try:
        for _ in range(100):
            if events.relay.last_run_at is not None:
                break
            await asyncio.sleep(0.02)
        details = await check()
        assert details["running"] is True and details["backlog"] == 1
        assert details["last_run"] is not None
        assert details["scheduler_running"] is True
        assert (details["job_count"], details["job_names"]) == (1, ["outbox_relay"])
        sidecar.down = False
        events.relay.wake()
        for _ in range(200):
            if (await check())["backlog"] == 0:
                break
            await asyncio.sleep(0.05)
        assert (await check())["backlog"] == 0
        topics = {topic for topic, _ in sidecar.published}
        assert topics == {"cashlog_report"}  # the check itself published nothing
    finally:
        await events.relay.stop()
    with pytest.raises(UnhealthyError) as stopped_again:
        await check()  # stopped: unhealthy again, and says so in v1's keys
    assert stopped_again.value.details["scheduler_running"] is False
    assert stopped_again.value.details["job_names"] == []


# ---- given up: consumers that will not take an event stop its republishing (issue 22) -------


def _ack(event_id: str, **fields: object) -> CloudEvent:
    body = {
        "specversion": "1.0",
        "id": "x",
        "type": "t",
        "source": "s",
        "data": {"event_id": event_id, "topic": "cashlog_report", **fields},
    }
    return CloudEvent.parse(body, topic=ACK_TOPIC, pubsub="pubsub")


async def _wait_recheck(outbox: Outbox, event_id: str) -> None:
    record = await outbox.get(event_id)
    if record.recheck_at is not None:
        await asyncio.sleep(max(0.0, (record.recheck_at - utcnow()).total_seconds()) + 0.02)


async def test_an_event_every_missing_consumer_gave_up_is_no_longer_republished(
    db, dapr, sidecar
) -> None:
    outbox = Outbox(db, consumers={"cashlog_report": ["report", "stock"]})
    await outbox.ensure_indexes()
    event_id = await _add(outbox)
    relay = OutboxRelay(outbox, dapr, ack_timeout=0.1, ack_timeout_max=0.1)
    handle = acknowledgement_handler(outbox)
    assert await relay.run_once() == 1
    assert await handle(_ack(event_id, service="report", status="received")) == Outcome.SUCCESS
    # stock's handler failed (a bug, try 1 of 5): it will try again, so republishing goes on.
    await handle(_ack(event_id, service="stock", status="failed", attempt=1))
    record = await outbox.get(event_id)
    assert record.relay_status == "published" and record.status == "partially_delivered"
    await _wait_recheck(outbox, event_id)
    assert await relay.run_once() == 1
    assert sidecar.count(event_id) == 2
    # stock made it a dead letter: nobody who lacks the event will take it any more.
    await handle(_ack(event_id, service="stock", status="failed", attempt=5, final=True))
    record = await outbox.get(event_id)
    assert record.relay_status == "given_up" and record.recheck_at is None
    assert record.given_up_at is not None
    stock = next(c for c in record.consumers if c.service_name == "stock")
    assert (stock.status, stock.attempts, stock.final) == ("failed", 5, True)
    await asyncio.sleep(0.15)
    assert await relay.run_once() == 0
    assert sidecar.count(event_id) == 2
    backlog = await outbox.backlog()
    assert (backlog.given_up, backlog.unacknowledged, backlog.pending) == (1, 0, 0)
    # The same final report again changes nothing (settled by a read).
    version = record.version
    await handle(_ack(event_id, service="stock", status="failed", attempt=5, final=True))
    assert (await outbox.get(event_id)).version == version


async def test_failures_reported_up_to_the_bound_give_the_event_up(db, dapr, sidecar) -> None:
    outbox = Outbox(db, consumers={"cashlog_report": ["stock"]}, failed_tries=3)
    event_id = await _add(outbox)
    relay = OutboxRelay(outbox, dapr, ack_timeout=600)
    await relay.run_once()
    for attempt in (1, 2):
        record = await outbox.acknowledge(event_id, "stock", "failed", "bug", attempt=attempt)
        assert record.relay_status == "published"
    # An outage report (no attempt) does not count.
    record = await outbox.acknowledge(event_id, "stock", "failed", "DatabaseError; will retry")
    assert record.relay_status == "published"
    record = await outbox.acknowledge(event_id, "stock", "failed", "bug", attempt=3)
    assert record.relay_status == "given_up"


async def test_a_replay_republishes_a_given_up_event_and_its_receipt_delivers_it(
    db, dapr, sidecar
) -> None:
    outbox = Outbox(db, consumers={"cashlog_report": ["report", "stock"]})
    await outbox.ensure_indexes()
    event_id = await _add(outbox)
    relay = OutboxRelay(outbox, dapr, ack_timeout=600, poll_interval=30)
    assert await relay.run_once() == 1
    await outbox.acknowledge_many(
        [
            AckOutcome(event_id, "report", "received"),
            AckOutcome(event_id, "stock", "failed", "dead letter", attempt=5, final=True),
        ]
    )
    assert (await outbox.get(event_id)).relay_status == "given_up"
    assert await relay.run_once() == 0
    # An operator replays it at stock: published again at once (the relay is told).
    handle = acknowledgement_handler(outbox)
    await handle(_ack(event_id, service="stock", status="failed", replay=True))
    record = await outbox.get(event_id)
    assert record.relay_status == "published" and record.rearmed_at is not None
    stock = next(c for c in record.consumers if c.service_name == "stock")
    assert (stock.attempts, stock.final) == (0, False)
    assert await relay.run_once() == 1
    assert sidecar.count(event_id) == 2
    await handle(_ack(event_id, service="stock", status="received"))
    record = await outbox.get(event_id)
    assert record.status == "delivered" and record.recheck_at is None
    assert record.relay_status == "published"
    assert (await outbox.backlog()).given_up == 0


async def test_an_event_nobody_acknowledged_for_a_day_is_given_up_until_replayed(
    db, dapr, sidecar
) -> None:
    outbox = Outbox(db, consumers={"cashlog_report": ["report"]})
    await outbox.ensure_indexes()
    event_id = await _add(outbox)
    relay = OutboxRelay(outbox, dapr, ack_timeout=600)
    await relay.run_once()
    await outbox.collection.update_one(
        {"event_id": event_id}, {"$set": {"created_at": utcnow() - timedelta(days=2)}}
    )
    assert await relay.give_up_unacknowledged() == 1
    record = await outbox.get(event_id)
    assert record.gave_up and record.relay_status == "given_up"
    assert (await outbox.backlog()).given_up == 1
    await outbox.acknowledge(event_id, "report", "failed", "replay", replay=True)
    record = await outbox.get(event_id)
    assert not record.gave_up and record.relay_status == "published"
    # The replay restarted the clock: not given up again at once.
    relay._next_give_up_check = None
    assert await relay.give_up_unacknowledged() == 0
    assert await relay.run_once() == 1  # republished
