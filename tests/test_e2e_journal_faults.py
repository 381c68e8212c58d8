"""The journal under faults: a stream of tranlog, cash and open/close events goes through the
real local sidecar while the sidecar, or the journal itself, is SIGKILLed mid-stream and
restarted. Afterwards every event is in the journal exactly once, and its inbox holds exactly
one record per event.

Each test runs on a private stack (the journal alone, its wire server, Redis, the sidecar), so
killing a component never disturbs the session stack.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta

import httpx
import pytest
from pymongo import AsyncMongoClient

from kugelpos.common.auth.tokens import TokenCodec
from kugelpos.devstack.stack import SIDECAR, Stack
from kugelpos.registry.services import service
from kugelpos.testkit.testing import new_tenant_id

PER_TOPIC = 40
STORE = "S1"
DEADLINE_SECONDS = 120


def tranlog(tenant: str, n: int) -> dict:
    return {
        "event_id": str(uuid.uuid4()),
        "tenant_id": tenant,
        "store_code": STORE,
        "store_name": "Store",
        "terminal_no": 1 + n % 3,
        "transaction_no": n,
        "transaction_type": 101,
        "business_date": "20261201",
        "open_counter": 1,
        "business_counter": 1,
        "generate_date_time": f"2026-12-01T10:{n // 60:02d}:{n % 60:02d}.000000+09:00",
        "receipt_no": n,
        "user": {"id": "u1", "name": "User"},
        "staff": {"id": "s1", "name": "Staff"},
        "sales": {"total_amount_with_tax": 100.0 + n, "total_quantity": 1, "is_cancelled": False},
        "line_items": [],
        "payments": [],
        "taxes": [],
        "receipt_text": "<receipt/>",
        "journal_text": f"sale {n}",
    }


def cashlog(tenant: str, n: int) -> dict:
    return {
        "event_id": str(uuid.uuid4()),
        "event_type": "cash_in_out",
        "tenant_id": tenant,
        "store_code": STORE,
        "store_name": "Store",
        "terminal_no": 1,
        "business_date": "20261201",
        "open_counter": 1,
        "business_counter": 1,
        "generate_date_time": f"2026-12-01T11:{n // 60:02d}:{n % 60:02d}.000000+09:00",
        "amount": 10.0 if n % 2 else -10.0,
        "description": "cash",
        "staff_id": "s1",
        "receipt_text": "<receipt/>",
        "journal_text": f"cash {n}",
    }


def opencloselog(tenant: str, n: int) -> dict:
    # Open/close logs are unique per (terminal, date, session, operation): one terminal each.
    operation = "open" if n % 2 == 0 else "close"
    return {
        "event_id": str(uuid.uuid4()),
        "event_type": operation,
        "tenant_id": tenant,
        "store_code": STORE,
        "store_name": "Store",
        "terminal_no": 100 + n // 2,
        "business_date": "20261201",
        "open_counter": 1,
        "business_counter": 1,
        "operation": operation,
        "generate_date_time": f"2026-12-01T09:00:{n % 60:02d}.000000+09:00",
        "staff_id": "s1",
        "terminal_info": {},
        "receipt_text": "<receipt/>",
        "journal_text": f"{operation} {n}",
    }


TOPICS: dict[str, Callable[[str, int], dict]] = {
    "tranlog_report": tranlog,
    "cashlog_report": cashlog,
    "opencloselog_report": opencloselog,
}
EXPECTED = 3 * PER_TOPIC
QUICK_REDELIVERY = ("--redeliver-interval", "0.5", "--max-backoff", "2")


@pytest.fixture(scope="module")
def _journal_stack(stack_factory: Callable[..., Stack]) -> Iterator[Stack]:
    # Quick redelivery: what is under test is exactly-once, not the sidecar's backoff.
    own = stack_factory(services=(service("journal"),), sidecar_options=QUICK_REDELIVERY)
    yield own
    own.stop()


@pytest.fixture
def journal_stack(_journal_stack: Stack) -> Stack:
    # One stack for the module, each test on a tenant of its own; whatever an earlier test
    # killed and did not bring back (it failed) is started again first.
    return _journal_stack.start()


class Harness:
    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self.tenant = new_tenant_id("JF")
        token = TokenCodec(stack.secret_key).issue_user_token(
            username="auditor",
            tenant_id=self.tenant,
            is_superuser=False,
            roles=["admin"],
            lifetime=timedelta(minutes=30),
        )
        self.headers = {"Authorization": f"Bearer {token}"}
        self.http = httpx.AsyncClient(timeout=30)
        self.mongo = AsyncMongoClient(stack.mongo_uri_for("journal"), tz_aware=True)
        self.db = self.mongo[stack.db_name("journal", self.tenant)]

    async def setup_tenant(self) -> None:
        r = await self.http.post(
            f"{self.stack.url('journal')}/api/v1/tenants",
            headers=self.headers,
            json={"tenantId": self.tenant},
        )
        assert r.status_code == 201, r.text

    def events(self) -> list[tuple[str, dict]]:
        return [(t, make(self.tenant, n)) for n in range(PER_TOPIC) for t, make in TOPICS.items()]

    async def publish(self, topic: str, event: dict) -> None:
        # Publishing needs the sidecar; while it restarts, keep trying (as the outbox relay).
        for _ in range(200):
            try:
                r = await self.http.post(
                    f"{self.stack.sidecar_url}/v1.0/publish/pubsub/{topic}",
                    json=event,
                    headers=self.stack.dapr_headers(self.stack.publisher_of(topic)),
                )
                if r.status_code == 204:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)
        raise AssertionError(f"could not publish to {topic}")

    async def entries(self) -> int:
        return await self.db["journal"].count_documents({})

    async def wait_for(self, count: int) -> int:
        deadline = time.monotonic() + DEADLINE_SECONDS
        seen = 0
        while time.monotonic() < deadline:
            seen = await self.entries()
            if seen >= count:
                return seen
            await asyncio.sleep(0.2)
        return seen

    async def assert_each_event_once(self, events: list[tuple[str, dict]]) -> None:
        seen = await self.wait_for(EXPECTED)
        assert seen == EXPECTED, f"{seen} journal entries for {EXPECTED} events"
        await asyncio.sleep(1.0)  # redeliveries still in flight must not add anything
        assert await self.entries() == EXPECTED
        inbox = await self.db["processed_events"].find({}, {"_id": False}).to_list()
        assert sorted(r["event_id"] for r in inbox) == sorted(e["event_id"] for _, e in events)
        texts = [d["journal_text"] for d in await self.db["journal"].find({}).to_list()]
        assert len(set(texts)) == EXPECTED  # one entry per log, none twice
        # The search API agrees with the database.
        r = await self.http.get(
            f"{self.stack.url('journal')}/api/v1/tenants/{self.tenant}/stores/{STORE}/journals",
            headers=self.headers,
            params={"limit": 1000},
        )
        assert r.status_code == 200, r.text
        assert r.json()["metadata"]["total"] == EXPECTED

    async def close(self) -> None:
        await self.http.aclose()
        await self.mongo.close()


async def test_sidecar_killed_mid_stream_loses_and_doubles_nothing(journal_stack: Stack) -> None:
    h = Harness(journal_stack)
    try:
        await h.setup_tenant()
        events = h.events()
        half = len(events) // 2
        for topic, event in events[:half]:
            await h.publish(topic, event)
        # Deliveries of the first half are in flight: the sidecar dies without a goodbye.
        assert journal_stack.kill_component(SIDECAR)
        journal_stack.start_component(SIDECAR)
        for topic, event in events[half:]:
            await h.publish(topic, event)
        # And a few of them twice more, as a republishing outbox would.
        for topic, event in events[:5]:
            await h.publish(topic, event)
        await h.assert_each_event_once(events)
    finally:
        await h.close()


async def test_journal_killed_while_handling_loses_and_doubles_nothing(
    journal_stack: Stack,
) -> None:
    h = Harness(journal_stack)
    try:
        await h.setup_tenant()
        events = h.events()
        await asyncio.gather(*(h.publish(topic, event) for topic, event in events))
        # Kill the journal as soon as it has applied something: the rest is mid-handling.
        assert await h.wait_for(1) >= 1
        assert journal_stack.kill_component("journal")
        journal_stack.start_component("journal")
        await h.assert_each_event_once(events)
    finally:
        await h.close()
