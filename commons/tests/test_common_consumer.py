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
from fastapi import FastAPI

from kugelpos.common.clients.breaker import BreakerRegistry
from kugelpos.common.clients.dapr import DaprClientHelper
from kugelpos.common.clients.http import HttpClientHelper
from kugelpos.common.errors import ErrorCode
from kugelpos.common.events.consumer import Delivery, EventConsumer, EventRejected
from kugelpos.common.events.logs import TOPIC_CASHLOG, CashLog
from kugelpos.common.settings import CommonSettings
from kugelpos.common.web.app import build_infrastructure
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


class Harness:
    """A consumer whose handler writes one `effects` document per applied cash log (no unique
    index of its own, so only the inbox can prevent a second effect)."""

    def __init__(self, mongo_uri: str, sidecar: FakeSidecar) -> None:
        settings = CommonSettings(environment="development", mongodb_uri=mongo_uri)
        self.prefix = f"db_consumertest{secrets.token_hex(3)}"
        self.infra = build_infrastructure(settings, self.prefix)
        http = HttpClientHelper(
            max_attempts=1,
            transport=httpx.MockTransport(sidecar.handler),
            breakers=BreakerRegistry(failure_threshold=1000),
        )
        self.infra.dapr = DaprClientHelper(http, "http://sidecar", "test")
        self.consumer = EventConsumer("journal")
        self.fail_with: Exception | None = None

        @self.consumer.consume(TOPIC_CASHLOG, CashLog, route=ROUTE)
        async def on_cash(delivery: Delivery[CashLog]) -> None:
            await delivery.db["effects"].insert_one(
                {"event_id": delivery.event_id, "amount": delivery.log.amount},
                session=delivery.session,
            )
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
    h = Harness(UNUSED_MONGO, sidecar)
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
