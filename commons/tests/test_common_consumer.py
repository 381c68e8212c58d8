"""The consumer side of events against a real MongoDB wire server: exactly one effect per
event under redelivery, outcomes Dapr understands, acknowledgements on `tranlog_status`, and
the app API token on subscriber routes. Acknowledgements go to a fake sidecar (an httpx mock
transport) so each test can read exactly what was published; the services' own tests run the
same machinery through the real local sidecar."""

from __future__ import annotations

import asyncio
import json
import secrets
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
import pytest_asyncio
import structlog.testing
from fastapi import FastAPI

from kugelpos.common.clients.breaker import BreakerRegistry
from kugelpos.common.clients.dapr import DaprClientHelper
from kugelpos.common.clients.http import HttpClientHelper
from kugelpos.common.errors import ErrorCode, ServiceUnavailableError
from kugelpos.common.events.consumer import Delivery, EventConsumer, EventRejected
from kugelpos.common.events.dead_letters import (
    DEAD_LETTERS,
    OPEN_STATES,
    DeadLetterState,
    RetryPolicy,
)
from kugelpos.common.events.logs import TOPIC_CASHLOG, CashLog
from kugelpos.common.infrastructure import build_infrastructure
from kugelpos.common.pagination import PageParams
from kugelpos.common.settings import CommonSettings
from kugelpos.common.web.handlers import install_exception_handlers

UNUSED_MONGO = "mongodb://127.0.0.1:9/?directConnection=true&serverSelectionTimeoutMS=300"
ROUTE = "/api/v1/cashlog"


class FakeSidecar:
    def __init__(self) -> None:
        self.acks: list[dict] = []
        self.down = False

    def handler(self, request: httpx.Request) -> httpx.Response:
        if self.down:
            raise httpx.ConnectError("sidecar down", request=request)
        assert request.url.path.endswith("/tranlog_status")
        self.acks.append(json.loads(request.content))
        return httpx.Response(204)

    def of(self, event_id: str) -> list[tuple[str, str | None]]:
        return [(a["status"], a.get("message")) for a in self.acks if a["event_id"] == event_id]

    def full(self, event_id: str) -> list[dict]:
        return [a for a in self.acks if a["event_id"] == event_id]


class Harness:
    """A consumer whose handler writes one `effects` document per applied cash log (no unique
    index of its own, so only the inbox can prevent a second effect)."""

    def __init__(
        self,
        mongo_uri: str,
        sidecar: FakeSidecar,
        *,
        retry: RetryPolicy | None = None,
        prefix: str | None = None,
        selection_timeout_ms: int | None = None,
    ) -> None:
        settings = CommonSettings(environment="development", mongodb_uri=mongo_uri)
        if selection_timeout_ms is not None:
            # The client's own option: it wins over a serverSelectionTimeoutMS in the URI.
            settings.db_server_selection_timeout_ms = selection_timeout_ms
        self.prefix = prefix or f"db_consumertest{secrets.token_hex(3)}"
        self.infra = build_infrastructure(settings, self.prefix)
        http = HttpClientHelper(
            max_attempts=1,
            transport=httpx.MockTransport(sidecar.handler),
            breakers=BreakerRegistry(failure_threshold=1000),
        )
        self.infra.dapr = DaprClientHelper(http, "http://sidecar", "test")
        self.consumer = EventConsumer("journal", retry=retry)
        self.fail_with: Exception | None = None
        # Event ids the handler raises a bug for (a poison event), and its calls per event id.
        self.poison: set[str] = set()
        self.calls: dict[str, int] = {}
        self.drop_all = False

        @self.consumer.consume(TOPIC_CASHLOG, CashLog, route=ROUTE)
        async def on_cash(delivery: Delivery[CashLog]) -> None:
            self.calls[delivery.event_id] = self.calls.get(delivery.event_id, 0) + 1
            if self.drop_all:
                delivery.drop("nothing to apply here")
                return
            await delivery.db["effects"].insert_one(
                {"event_id": delivery.event_id, "amount": delivery.log.amount},
                session=delivery.session,
            )
            if delivery.event_id in self.poison:
                raise RuntimeError(f"bug on {delivery.event_id}")
            if self.fail_with is not None:
                raise self.fail_with

        app = FastAPI()
        install_exception_handlers(app)  # as create_app does: errors in the envelope
        app.include_router(self.consumer.subscriptions.router())
        self.client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://app"
        )

    async def deliver(self, data: object, *, headers: dict | None = None) -> httpx.Response:
        cloudevent = {"specversion": "1.0", "id": "ce", "type": "t", "source": "s", "data": data}
        return await self.client.post(ROUTE, json=cloudevent, headers=headers)

    async def effects(self, tenant: str) -> list[dict]:
        db = self.infra.mongo.tenant_db(tenant)
        return await db["effects"].find({}, {"_id": False}).to_list()

    async def status(self, data: object) -> str:
        return (await self.deliver(data)).json()["status"]

    def counted(self, outcome: str) -> float:
        value = self.infra.metrics.registry.get_sample_value(
            "kugelpos_events_consumed_total",
            {"service": self.infra.metrics.service, "topic": TOPIC_CASHLOG, "outcome": outcome},
        )
        return value or 0.0

    async def letter(self, tenant: str, event_id: str) -> dict | None:
        db = self.infra.mongo.tenant_db(tenant)
        return await db[DEAD_LETTERS].find_one({"event_id": event_id}, {"_id": False})

    async def close(self) -> None:
        for name in await self.infra.mongo.client.list_database_names():
            if name.startswith(self.prefix):
                await self.infra.mongo.client.drop_database(name)
        await self.client.aclose()
        await self.infra.close()


@pytest.fixture
def sidecar() -> FakeSidecar:
    return FakeSidecar()


@pytest_asyncio.fixture
async def harness(mongo_uri: str, sidecar: FakeSidecar) -> AsyncIterator[Harness]:
    h = Harness(mongo_uri, sidecar)
    await h.consumer.start(h.infra)
    yield h
    await h.close()


def cash_log(tenant: str, **changes: object) -> dict:
    log = {
        "event_id": str(uuid.uuid4()),
        "event_type": "cash_in_out",
        "tenant_id": tenant,
        "store_code": "S1",
        "store_name": "Store",
        "terminal_no": 1,
        "business_date": "20261201",
        "open_counter": 1,
        "business_counter": 1,
        "generate_date_time": f"2026-12-01T10:00:00.{uuid.uuid4().int % 10**6:06d}+09:00",
        "amount": 500.0,
        "description": "change float",
        "receipt_text": "<r/>",
        "journal_text": "cash in 500",
    }
    return {**log, **changes}


@pytest.fixture
def tenant() -> str:
    return "T" + secrets.token_hex(4)


async def test_five_concurrent_deliveries_have_one_effect_and_five_acks(
    harness: Harness, sidecar: FakeSidecar, tenant: str
) -> None:
    log = cash_log(tenant)
    answers = await asyncio.gather(*(harness.deliver(log) for _ in range(5)))
    assert [a.json() for a in answers] == [{"status": "SUCCESS"}] * 5
    assert await harness.effects(tenant) == [{"event_id": log["event_id"], "amount": 500.0}]
    assert sidecar.of(log["event_id"]) == [("received", None)] * 5
    # Each names its topic, so the other publishers skip it without a lookup.
    assert {a["topic"] for a in sidecar.acks} == {TOPIC_CASHLOG}
    inbox = harness.infra.mongo.tenant_db(tenant)["processed_events"]
    (record,) = await inbox.find({}, {"_id": False}).to_list()
    assert record["event_id"] == log["event_id"]
    assert record["natural_key"].startswith(f"{TOPIC_CASHLOG}:S1:1:20261201:1:")


async def test_the_same_log_under_another_event_id_has_no_second_effect(
    harness: Harness, sidecar: FakeSidecar, tenant: str
) -> None:
    first = cash_log(tenant)
    again = {**first, "event_id": str(uuid.uuid4())}  # what v1's republisher does
    assert (await harness.deliver(first)).json() == {"status": "SUCCESS"}
    assert (await harness.deliver(again)).json() == {"status": "SUCCESS"}
    assert len(await harness.effects(tenant)) == 1
    assert sidecar.of(again["event_id"]) == [("received", None)]  # its publisher settles too


@pytest.mark.parametrize(
    "data",
    [
        {"test": "health-check", "timestamp": 1.5},
        None,
        "not an object",
        {"event_id": "e1", "amount": 1},  # no tenant
        {"tenant_id": "T1", "amount": 1},  # no event id
        {"tenant_id": "T1", "event_id": ""},
    ],
)
async def test_probes_and_unidentified_messages_are_dropped(
    harness: Harness, sidecar: FakeSidecar, data: object
) -> None:
    answer = await harness.deliver(data)
    assert answer.status_code == 200 and answer.json() == {"status": "DROP"}
    assert sidecar.acks == []


async def test_an_invalid_payload_is_dropped_with_a_failed_ack_and_writes_nothing(
    harness: Harness, sidecar: FakeSidecar, tenant: str
) -> None:
    bad = cash_log(tenant, terminal_no="one", business_date="2026-12-01")
    assert (await harness.deliver(bad)).json() == {"status": "DROP"}
    ((status, message),) = sidecar.of(bad["event_id"])
    assert status == "failed"
    assert "terminal_no" in message and "business_date" in message
    assert "one" not in message  # field names, never the values sent
    assert await harness.effects(tenant) == []
    bad_tenant = cash_log("no-dashes-allowed")
    assert (await harness.deliver(bad_tenant)).json() == {"status": "DROP"}


async def test_a_rejected_event_is_dropped_and_rolled_back(
    harness: Harness, sidecar: FakeSidecar, tenant: str
) -> None:
    harness.fail_with = EventRejected("store S1 is closed for good")
    log = cash_log(tenant)
    assert (await harness.deliver(log)).json() == {"status": "DROP"}
    assert sidecar.of(log["event_id"]) == [("failed", "store S1 is closed for good")]
    assert await harness.effects(tenant) == []  # the handler's write went with the abort
    inbox = harness.infra.mongo.tenant_db(tenant)["processed_events"]
    assert await inbox.count_documents({}) == 0


async def test_a_fault_retries_and_the_redelivery_applies_once(
    harness: Harness, sidecar: FakeSidecar, tenant: str
) -> None:
    harness.fail_with = RuntimeError("bug in the handler")
    log = cash_log(tenant)
    assert (await harness.deliver(log)).json() == {"status": "RETRY"}
    assert await harness.effects(tenant) == []
    harness.fail_with = None
    assert (await harness.deliver(log)).json() == {"status": "SUCCESS"}
    assert len(await harness.effects(tenant)) == 1
    assert [s for s, _ in sidecar.of(log["event_id"])] == ["failed", "received"]


async def test_a_lost_acknowledgement_is_retried_and_sent_with_the_duplicate(
    harness: Harness, sidecar: FakeSidecar, tenant: str
) -> None:
    log = cash_log(tenant)
    sidecar.down = True
    assert (await harness.deliver(log)).json() == {"status": "RETRY"}
    assert len(await harness.effects(tenant)) == 1  # applied; only the ack is missing
    sidecar.down = False
    assert (await harness.deliver(log)).json() == {"status": "SUCCESS"}
    assert len(await harness.effects(tenant)) == 1
    assert sidecar.of(log["event_id"]) == [("received", None)]


async def test_a_database_that_is_down_means_retry(sidecar: FakeSidecar, tenant: str) -> None:
    h = Harness(UNUSED_MONGO, sidecar, selection_timeout_ms=300)
    await h.consumer.start(h.infra)
    try:
        log = cash_log(tenant)
        assert (await h.deliver(log)).json() == {"status": "RETRY"}
        ((status, _),) = sidecar.of(log["event_id"])
        assert status == "failed"
    finally:
        await h.client.aclose()
        await h.infra.close()


async def test_subscriber_routes_need_the_app_api_token(
    harness: Harness, sidecar: FakeSidecar, tenant: str
) -> None:
    harness.consumer.subscriptions.app_api_token = token = secrets.token_hex(20)
    log = cash_log(tenant)
    for headers in (None, {"dapr-api-token": "wrong"}, {"dapr-api-token": ""}):
        answer = await harness.deliver(log, headers=headers)
        assert answer.status_code == 401
        body = answer.json()
        assert body["success"] is False and body["code"] == ErrorCode.AUTHENTICATION_FAILED
        assert token not in answer.text
    assert await harness.effects(tenant) == []
    assert sidecar.acks == []
    answer = await harness.deliver(log, headers={"dapr-api-token": token})
    assert answer.json() == {"status": "SUCCESS"}
    assert len(await harness.effects(tenant)) == 1


async def test_subscriber_routes_refuse_a_service_invocation_even_with_the_token(
    harness: Harness, sidecar: FakeSidecar, tenant: str
) -> None:
    """Another app invoking the route through Dapr gets the callee's token attached by the
    callee's sidecar; daprd marks such a request with dapr-caller-app-id, a delivery never."""
    harness.consumer.subscriptions.app_api_token = token = secrets.token_hex(20)
    log = cash_log(tenant)
    answer = await harness.deliver(
        log, headers={"dapr-api-token": token, "dapr-caller-app-id": "stock"}
    )
    assert answer.status_code == 403
    body = answer.json()
    assert body["success"] is False and body["code"] == ErrorCode.PERMISSION_DENIED
    assert await harness.effects(tenant) == []
    assert sidecar.acks == []


# ---- handler errors: bounded tries, dead letters, replay (issue 22) -----------------------------

QUICK = RetryPolicy(tries=3, base_seconds=0.3)


@pytest_asyncio.fixture
async def quick(mongo_uri: str, sidecar: FakeSidecar) -> AsyncIterator[Harness]:
    """A consumer that gives a failing event 3 tries: the second at once, the third 0.3 s
    later."""
    h = Harness(mongo_uri, sidecar, retry=QUICK)
    await h.consumer.start(h.infra)
    yield h
    await h.close()


async def test_a_poison_event_is_tried_a_bounded_number_of_times_then_dead_lettered(
    quick: Harness, sidecar: FakeSidecar, tenant: str
) -> None:
    poison, *good = [cash_log(tenant) for _ in range(4)]
    poison_id = poison["event_id"]
    quick.poison.add(poison_id)
    assert await quick.status(poison) == "RETRY"
    assert await quick.status(good[0]) == "SUCCESS"  # the others keep flowing
    assert await quick.status(poison) == "RETRY"  # the second try runs at once
    assert quick.calls[poison_id] == 2
    # The third waits its backoff: a redelivery before then is answered without a try.
    assert await quick.status(poison) == "RETRY"
    assert await quick.status(good[1]) == "SUCCESS"
    assert quick.calls[poison_id] == 2
    await asyncio.sleep(0.35)
    # The last try fails: a dead letter, dropped (Dapr moves it to the dead-letter topic).
    assert await quick.status(poison) == "DROP"
    assert quick.calls[poison_id] == 3
    assert await quick.status(good[2]) == "SUCCESS"
    acks = sidecar.full(poison_id)
    assert [(a["status"], a.get("attempt"), a.get("final")) for a in acks] == [
        ("failed", 1, None),
        ("failed", 2, None),
        ("failed", 3, True),
    ]
    assert "dead letter after 3 tries: RuntimeError" in acks[-1]["message"]
    letter = await quick.letter(tenant, poison_id)
    assert letter is not None
    assert letter["state"] == "dead" and letter["attempts"] == 3
    assert letter["payload"] == poison and letter["topic"] == TOPIC_CASHLOG
    assert letter["last_error"].startswith("RuntimeError: bug on")
    # Nothing of the poison was written; every other event was applied once.
    assert sorted(e["event_id"] for e in await quick.effects(tenant)) == sorted(
        g["event_id"] for g in good
    )
    assert (quick.counted("error"), quick.counted("dead_letter")) == (2, 1)
    # A copy still on its way (a republish) is taken without a try, and its publisher told
    # again that this consumer will not take it.
    assert await quick.status(poison) == "SUCCESS"
    assert quick.calls[poison_id] == 3
    assert sidecar.full(poison_id)[-1]["final"] is True
    assert (quick.counted("dead_letter"), quick.counted("duplicate")) == (1, 1)


async def test_a_replay_after_the_fix_applies_the_dead_letter_exactly_once(
    mongo_uri: str, sidecar: FakeSidecar, tenant: str
) -> None:
    h = Harness(mongo_uri, sidecar, retry=RetryPolicy(tries=1))
    await h.consumer.start(h.infra)
    try:
        poison = cash_log(tenant)
        event_id = poison["event_id"]
        h.poison.add(event_id)
        assert await h.status(poison) == "DROP"  # one try: dead at once
        # Replayed while the bug is still there: it stays a dead letter, nothing written.
        failed = await h.consumer.replay(tenant, event_id, actor="admin")
        assert (failed.outcome, failed.state) == ("failed", DeadLetterState.DEAD)
        assert (await h.letter(tenant, event_id))["attempts"] == 2
        assert await h.effects(tenant) == []
        h.poison.clear()  # the fix is deployed
        result = await h.consumer.replay(tenant, event_id, actor="admin")
        assert (result.outcome, result.state) == ("applied", DeadLetterState.REPLAYED)
        again = await h.consumer.replay(tenant, event_id, actor="admin")
        assert (again.outcome, again.state) == ("already_replayed", DeadLetterState.REPLAYED)
        assert await h.effects(tenant) == [{"event_id": event_id, "amount": 500.0}]
        # The redelivery the publisher makes after the replay is a duplicate.
        assert await h.status(poison) == "SUCCESS"
        assert len(await h.effects(tenant)) == 1
        letter = await h.letter(tenant, event_id)
        assert letter["state"] == "replayed" and letter["replayed_by"] == "admin"
        assert letter["replay_outcome"] == "applied"
        # The publisher was asked to publish it again, then told it was received.
        acks = sidecar.full(event_id)
        assert any(a.get("replay") for a in acks)
        assert acks[-1]["status"] == "received"
        open_page = await h.consumer.dead_letters(tenant, PageParams(), states=OPEN_STATES)
        assert open_page.items == [] and open_page.total == 0
        everything = await h.consumer.dead_letters(tenant, PageParams())
        assert [x.state for x in everything.items] == [DeadLetterState.REPLAYED]
    finally:
        await h.close()


async def test_replay_all_takes_every_open_dead_letter(
    mongo_uri: str, sidecar: FakeSidecar, tenant: str
) -> None:
    h = Harness(mongo_uri, sidecar, retry=RetryPolicy(tries=1))
    await h.consumer.start(h.infra)
    try:
        logs = [cash_log(tenant) for _ in range(3)]
        h.poison.update(x["event_id"] for x in logs)
        assert [await h.status(x) for x in logs] == ["DROP"] * 3
        h.poison.clear()
        results = await h.consumer.replay_all(tenant, actor="admin")
        assert sorted(r.event_id for r in results) == sorted(x["event_id"] for x in logs)
        assert {r.outcome for r in results} == {"applied"}
        assert await h.consumer.replay_all(tenant, actor="admin") == []
        assert len(await h.effects(tenant)) == 3
    finally:
        await h.close()


async def test_an_event_that_recovers_before_its_last_try_is_resolved(
    quick: Harness, sidecar: FakeSidecar, tenant: str
) -> None:
    log = cash_log(tenant)
    quick.poison.add(log["event_id"])
    assert await quick.status(log) == "RETRY"
    quick.poison.clear()  # e.g. a race that is over
    assert await quick.status(log) == "SUCCESS"
    assert len(await quick.effects(tenant)) == 1
    assert (await quick.letter(tenant, log["event_id"]))["state"] == "resolved"


async def test_another_replica_that_applies_a_dead_letter_resolves_it(
    mongo_uri: str, sidecar: FakeSidecar, tenant: str
) -> None:
    """The dead-letter gate is per process: a replica that has not seen the event tries it
    (the bound on tries is in the database), and the list shows it resolved."""
    first = Harness(mongo_uri, sidecar, retry=RetryPolicy(tries=1))
    second = Harness(mongo_uri, sidecar, retry=RetryPolicy(tries=1), prefix=first.prefix)
    await first.consumer.start(first.infra)
    await second.consumer.start(second.infra)
    try:
        log = cash_log(tenant)
        first.poison.add(log["event_id"])
        assert await first.status(log) == "DROP"
        assert await second.status(log) == "SUCCESS"  # fixed there
        page = await first.consumer.dead_letters(tenant, PageParams())
        assert [x.state for x in page.items] == [DeadLetterState.RESOLVED]
        assert len(await first.effects(tenant)) == 1
    finally:
        await second.client.aclose()
        await second.infra.close()
        await first.close()


async def test_an_outage_is_retried_without_counting_tries(
    mongo_uri: str, sidecar: FakeSidecar, tenant: str
) -> None:
    """A dependency or database outage is not a bug: retried for as long as it lasts."""
    h = Harness(mongo_uri, sidecar, retry=RetryPolicy(tries=2, base_seconds=0))
    await h.consumer.start(h.infra)
    try:
        h.fail_with = ServiceUnavailableError("master-data is down")
        log = cash_log(tenant)
        for _ in range(5):
            assert await h.status(log) == "RETRY"
        assert await h.letter(tenant, log["event_id"]) is None
        assert all(a.get("final") is None for a in sidecar.full(log["event_id"]))
        h.fail_with = None
        assert await h.status(log) == "SUCCESS"
        assert len(await h.effects(tenant)) == 1
    finally:
        await h.close()


async def test_a_handler_that_drops_the_log_commits_the_inbox_and_counts_dropped(
    harness: Harness, sidecar: FakeSidecar, tenant: str
) -> None:
    harness.drop_all = True
    log = cash_log(tenant)
    assert await harness.status(log) == "SUCCESS"
    assert await harness.status(log) == "SUCCESS"  # a redelivery: a duplicate
    assert harness.calls[log["event_id"]] == 1
    assert await harness.effects(tenant) == []
    assert (harness.counted("dropped"), harness.counted("duplicate")) == (1, 1)
    assert sidecar.of(log["event_id"]) == [("received", None)] * 2
    inbox = harness.infra.mongo.tenant_db(tenant)["processed_events"]
    assert await inbox.count_documents({"event_id": log["event_id"]}) == 1


async def test_another_log_under_a_natural_key_already_applied_is_rejected(
    harness: Harness, sidecar: FakeSidecar, tenant: str
) -> None:
    first = cash_log(tenant)
    assert await harness.status(first) == "SUCCESS"
    # The same log again under another id (v1's republisher, a direct re-post): a duplicate.
    same = {**first, "event_id": str(uuid.uuid4()), "amount": 500}  # 500 == 500.0
    assert await harness.status(same) == "SUCCESS"
    # Another log claiming the same natural key: refused, never a silent duplicate.
    forged = {**first, "event_id": str(uuid.uuid4()), "amount": 50_000.0}
    with structlog.testing.capture_logs() as logs:
        assert await harness.status(forged) == "DROP"
    assert await harness.effects(tenant) == [{"event_id": first["event_id"], "amount": 500.0}]
    (ack,) = sidecar.full(forged["event_id"])
    assert ack["status"] == "failed" and ack["final"] is True
    assert first["event_id"] in ack["message"]
    (warning,) = [x for x in logs if x["event"] == "event_conflict"]
    assert warning["log_level"] == "warning"
    assert (warning["event_id"], warning["existing_event_id"]) == (
        forged["event_id"],
        first["event_id"],
    )
    assert harness.counted("rejected") == 1
