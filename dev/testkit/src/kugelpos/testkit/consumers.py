"""What the integration tests of the log consumers (journal, report) share.

A `ConsumerBook` is one tenant as a consumer service sees it: registered through the account
service, set up in the service, with tokens of every kind minted with the stack's secret
exactly as account and terminal issue them. `Logs` builds the three inbound log payloads as
cart and terminal publish them. `ConsumerBook.snapshot()` is what a refused request must leave
unchanged.

A service's conftest names the service and its book, then takes the fixtures from here:

    @pytest.fixture(scope="session")
    def consumer_service() -> str:
        return "journal"

    @pytest.fixture(scope="session")
    def book_class() -> type[ConsumerBook]:
        return JournalBook
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, ClassVar

import httpx
import pytest
import redis.asyncio as aioredis
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from kugelpos.common.auth.tokens import TokenCodec
from kugelpos.devstack.stack import Stack
from kugelpos.testkit.testing import assert_ok, register_tenant_admin, till_bearer

__all__ = [
    "ConsumerBook",
    "Logs",
    "acked",
    "acknowledgements",
    "book",
    "codec",
    "eventually",
    "http",
    "logs",
    "mongo",
    "other_book",
    "publish",
    "tenant_setup_statuses",
    "wait",
]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


class Logs:
    """Inbound payloads as cart and terminal publish them, snake_case with event_id."""

    @staticmethod
    def tran(
        tenant: str, store: str = "S1", terminal: int = 1, no: int = 1, **changes: Any
    ) -> dict[str, Any]:
        sales = {
            "total_amount": 1000.0,
            "total_amount_with_tax": 1100.0,
            "tax_amount": 100.0,
            "total_quantity": 2,
            "is_cancelled": False,
        }
        sales.update(changes.pop("sales", {}))
        log = {
            "event_id": str(uuid.uuid4()),
            "tenant_id": tenant,
            "store_code": store,
            "store_name": "Store",
            "terminal_no": terminal,
            "transaction_no": no,
            "transaction_type": 101,
            "business_date": "20261201",
            "open_counter": 1,
            "business_counter": 1,
            "generate_date_time": f"2026-12-01T10:{no % 60:02d}:00.000000+09:00",
            "receipt_no": 1000 + no,
            "user": {"id": "U1", "name": "Guest"},
            "staff": {"id": "S001", "name": "Taro"},
            "sales": sales,
            "line_items": [{"line_no": 1, "item_code": "4901", "amount": 1000.0}],
            "payments": [{"payment_no": 1, "payment_code": "01", "amount": 1100.0}],
            "taxes": [],
            "subtotal_discounts": [],
            "receipt_text": "<PrintData/>",
            "journal_text": f"sale {no}\n",
            "is_voided": False,
            "is_refunded": False,
        }
        log.update(changes)
        return log

    @staticmethod
    def cash(
        tenant: str, store: str = "S1", terminal: int = 1, amount: Any = 500, **changes: Any
    ) -> dict[str, Any]:
        log = {
            "event_id": str(uuid.uuid4()),
            "event_type": "cash_in_out",
            "tenant_id": tenant,
            "store_code": store,
            "store_name": "Store",
            "terminal_no": terminal,
            "staff_id": "S001",
            "staff_name": "Taro",
            "business_date": "20261201",
            "open_counter": 1,
            "business_counter": 1,
            "generate_date_time": f"2026-12-01T09:00:{uuid.uuid4().int % 60:02d}."
            f"{uuid.uuid4().int % 1_000_000:06d}+09:00",
            "amount": amount,
            "description": "change float",
            "receipt_text": "<PrintData/>",
            "journal_text": "cash\n",
        }
        log.update(changes)
        return log

    @staticmethod
    def open_close(
        tenant: str, store: str = "S1", terminal: int = 1, operation: str = "open", **changes: Any
    ) -> dict[str, Any]:
        log = {
            "event_id": str(uuid.uuid4()),
            "event_type": operation,
            "tenant_id": tenant,
            "store_code": store,
            "store_name": "Store",
            "terminal_no": terminal,
            "staff_id": "S001",
            "staff_name": "Taro",
            "business_date": "20261201",
            "open_counter": 1,
            "business_counter": 1,
            "operation": operation,
            "generate_date_time": "2026-12-01T08:00:00.000000+09:00",
            "terminal_info": {"terminal_id": f"{tenant}-{store}-{terminal}"},
            "receipt_text": "<PrintData/>",
            "journal_text": f"{operation}\n",
        }
        log.update(changes)
        return log


@dataclass
class ConsumerBook:
    """One tenant in a consumer service, and the ways to call it common to journal and report
    (a service's book adds its own reads)."""

    # The service's collections a refused request must leave as they were (`snapshot`).
    collections: ClassVar[tuple[str, ...]] = ()

    tenant_id: str
    codec: TokenCodec
    admin_token: str
    http: httpx.AsyncClient
    mongo: AsyncMongoClient
    db_name: str  # the tenant's database (stack.db_name)
    terminal_url: str = ""

    @property
    def admin(self) -> dict[str, str]:
        return bearer(self.admin_token)

    @property
    def clerk(self) -> dict[str, str]:
        """A plain user of the tenant (role `user`: no back-office writes)."""
        token = self.codec.issue_user_token(
            username="clerk",
            tenant_id=self.tenant_id,
            is_superuser=False,
            roles=["user"],
            lifetime=timedelta(hours=1),
        )
        return bearer(token)

    def service(self, name: str = "report") -> dict[str, str]:
        return bearer(self.codec.issue_service_token(service=name, tenant_id=self.tenant_id))

    async def till(self, store_code: str = "S1", terminal_no: int = 1) -> dict[str, str]:
        """A real terminal's JWT (every service checks terminal credentials live)."""
        return await till_bearer(
            self.terminal_url, self.admin, self.tenant_id, store_code, terminal_no
        )

    def store_path(self, store: str) -> str:
        return f"/api/v1/tenants/{self.tenant_id}/stores/{store}"

    def terminal_path(self, store: str, terminal: int) -> str:
        return f"{self.store_path(store)}/terminals/{terminal}"

    @property
    def db(self) -> AsyncDatabase:
        return self.mongo[self.db_name]

    async def post_tran(self, log: dict[str, Any], headers: dict | None = None):
        path = self.terminal_path(log["store_code"], log["terminal_no"])
        return await self.http.post(f"{path}/transactions", json=log, headers=headers or self.admin)

    async def snapshot(self) -> dict[str, list]:
        result = {}
        for name in self.collections:
            docs = await self.db[name].find({}, {"_id": False}).to_list()
            result[name] = sorted(docs, key=repr)
        return result


@pytest.fixture(scope="session")
def logs() -> type[Logs]:
    return Logs


@pytest.fixture(scope="session")
def codec(stack: Stack) -> TokenCodec:
    return TokenCodec(stack.secret_key)


@pytest.fixture(scope="module")
async def http(stack: Stack, consumer_service: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=stack.url(consumer_service), timeout=30) as client:
        yield client


@pytest.fixture(scope="module")
async def mongo(stack: Stack, consumer_service: str) -> AsyncIterator[AsyncMongoClient]:
    client = AsyncMongoClient(stack.mongo_uri_for(consumer_service), tz_aware=True)
    yield client
    await client.close()


async def new_book[B: ConsumerBook](
    book_class: type[B],
    service: str,
    stack: Stack,
    codec: TokenCodec,
    http: httpx.AsyncClient,
    mongo: AsyncMongoClient,
) -> B:
    admin = await register_tenant_admin(stack.url("account"))
    r = await http.post(
        "/api/v1/tenants", json={"tenantId": admin.tenant_id}, headers=admin.headers
    )
    assert_ok(r, 201)
    return book_class(
        admin.tenant_id,
        codec,
        admin.token,
        http,
        mongo,
        stack.db_name(service, admin.tenant_id),
        stack.url("terminal"),
    )


@pytest.fixture(scope="module")
async def book(stack, consumer_service, book_class, codec, http, mongo) -> ConsumerBook:
    return await new_book(book_class, consumer_service, stack, codec, http, mongo)


@pytest.fixture(scope="module")
async def other_book(stack, consumer_service, book_class, codec, http, mongo) -> ConsumerBook:
    return await new_book(book_class, consumer_service, stack, codec, http, mongo)


@pytest.fixture
async def publish(stack: Stack) -> AsyncIterator[Callable[[str, dict], Awaitable[None]]]:
    """Publish through the real local sidecar, as cart and terminal's relays do (with the
    Dapr API token of the app the component's scopes let publish the topic)."""
    async with httpx.AsyncClient(base_url=stack.sidecar_url, timeout=30) as dapr:

        async def send(topic: str, data: dict) -> None:
            headers = stack.dapr_headers(stack.publisher_of(topic))
            r = await dapr.post(f"/v1.0/publish/pubsub/{topic}", json=data, headers=headers)
            assert r.status_code == 204, r.text

        yield send


async def eventually(check: Callable[[], Awaitable[Any]], within: float = 30.0) -> Any:
    """Poll until `check()` is truthy (events are asynchronous); returns its value."""
    deadline = asyncio.get_running_loop().time() + within
    while True:
        value = await check()
        if value:
            return value
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.1)


@pytest.fixture(scope="session")
def wait() -> Callable[..., Awaitable[Any]]:
    return eventually


async def tenant_setup_statuses(stack: Stack, tenant_id: str) -> dict[str, str]:
    """Each service's status in the terminal service's record of the tenant's set-up."""
    mongo: AsyncMongoClient = AsyncMongoClient(stack.mongo_uri_for("terminal"), tz_aware=True)
    try:
        tenant = await mongo[stack.db_name("terminal", tenant_id)]["info_tenant"].find_one({})
    finally:
        await mongo.close()
    assert tenant is not None, f"no tenant {tenant_id} in the terminal service"
    return {r["service"]: r["status"] for r in tenant["setup"]}


async def acknowledgements(stack: Stack, service: str, event_id: str) -> list[dict]:
    """A service's acknowledgements of one event, as published on `tranlog_status`."""
    redis = aioredis.from_url(stack.redis_url)
    try:
        found = []
        for _, fields in await redis.xrange("tranlog_status"):
            data = json.loads(fields[b"data"]).get("data") or {}
            if data.get("event_id") == event_id and data.get("service") == service:
                found.append(data)
        return found
    finally:
        await redis.aclose()


@pytest.fixture(scope="session")
def acked(stack: Stack, consumer_service: str) -> Callable[..., Awaitable[list[dict]]]:
    """`await acked(event_id, times=1)`: waits for that many acknowledgements."""

    async def wait_for(event_id: str, times: int = 1) -> list[dict]:
        async def enough() -> list[dict] | None:
            found = await acknowledgements(stack, consumer_service, event_id)
            return found if len(found) >= times else None

        return await eventually(enough)

    return wait_for
