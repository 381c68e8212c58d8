"""Fixtures of the terminal integration tests (against the embedded stack).

`world` gives a fresh tenant with a store and a terminal, set up through the API; it also
knows how to read the outbox and the Redis streams the sidecar publishes to.
"""

from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis.asyncio as aioredis
from pymongo import AsyncMongoClient

from kugelpos.common.auth.tokens import TokenCodec
from kugelpos.devstack.stack import Stack
from kugelpos.registry.services import service
from kugelpos.testkit.testing import assert_ok, new_tenant_id

HERE = Path(__file__).parent
STAFF_PIN = "4321"


@dataclass
class Env:
    """One stack, seen from a test: clients for terminal, master-data, MongoDB and Redis."""

    stack: Stack
    http: httpx.AsyncClient
    mongo: AsyncMongoClient
    redis: aioredis.Redis
    codec: TokenCodec

    def user_token(self, tenant_id: str, roles: tuple[str, ...] = ("admin",)) -> str:
        return self.codec.issue_user_token(
            username="tester",
            tenant_id=tenant_id,
            is_superuser=False,
            roles=list(roles),
            lifetime=timedelta(minutes=30),
        )

    def user(self, tenant_id: str, roles: tuple[str, ...] = ("admin",)) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.user_token(tenant_id, roles)}"}

    def service_headers(self, tenant_id: str, name: str = "report") -> dict[str, str]:
        token = self.codec.issue_service_token(service=name, tenant_id=tenant_id)
        return {"Authorization": f"Bearer {token}"}

    def db(self, tenant_id: str):
        return self.mongo[self.stack.db_name("terminal", tenant_id)]

    @property
    def outbox(self):
        return self.mongo[self.stack.db_name("terminal", "commons")]["outbox"]

    async def published(self, topic: str, event_id: str) -> int:
        """How many times the sidecar appended this event to the topic's stream."""
        count = 0
        for _, fields in await self.redis.xrange(topic):
            event = json.loads(fields[b"data"])
            if (event.get("data") or {}).get("event_id") == event_id:
                count += 1
        return count

    async def wait_published(self, topic: str, event_id: str, within: float = 20.0) -> int:
        deadline = asyncio.get_running_loop().time() + within
        while asyncio.get_running_loop().time() < deadline:
            if (n := await self.published(topic, event_id)) > 0:
                return n
            await asyncio.sleep(0.1)
        raise AssertionError(f"event {event_id} was not published on {topic} in {within}s")

    async def snapshot(self, tenant_id: str) -> dict[str, Any]:
        """Everything a refused request must leave unchanged."""
        db = self.db(tenant_id)
        result: dict[str, Any] = {}
        for name in ("info_tenant", "info_terminal", "log_cash_in_out", "log_open_close"):
            docs = await db[name].find({}, {"_id": False}).to_list()
            result[name] = sorted(docs, key=repr)
        result["outbox"] = await self.outbox.count_documents({"tenant_id": tenant_id})
        return result


@dataclass
class World:
    """A tenant with one store and one terminal, created through the API."""

    env: Env
    tenant_id: str
    store_code: str
    terminal_id: str
    api_key: str
    admin: dict[str, str]
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def http(self) -> httpx.AsyncClient:
        return self.env.http

    @property
    def key(self) -> dict[str, str]:
        return {"X-API-KEY": self.api_key}

    @property
    def path(self) -> str:
        return f"/api/v1/terminals/{self.terminal_id}"

    async def add_terminal(self, terminal_no: int) -> tuple[str, str]:
        r = await self.http.post(
            "/api/v1/terminals",
            headers=self.admin,
            json={"storeCode": self.store_code, "terminalNo": terminal_no, "description": "t"},
        )
        data = assert_ok(r, 201)["data"]
        return data["terminalId"], data["apiKey"]

    async def add_staff(self, staff_id: str = "S001", pin: str = STAFF_PIN) -> None:
        async with httpx.AsyncClient(base_url=self.env.stack.url("master-data"), timeout=30) as md:
            r = await md.post(
                f"/api/v1/tenants/{self.tenant_id}/staff",
                headers=self.admin,
                json={"id": staff_id, "name": f"Staff {staff_id}", "pin": pin, "roles": []},
            )
            assert r.status_code == 201, r.text

    async def sign_in(self, staff_id: str = "S001", pin: str = STAFF_PIN) -> httpx.Response:
        return await self.http.post(
            f"{self.path}/sign-in", headers=self.key, json={"staffId": staff_id, "pin": pin}
        )

    async def open(self, amount: Any = None) -> httpx.Response:
        body = None if amount is None else {"initialAmount": amount}
        return await self.http.post(f"{self.path}/open", headers=self.key, json=body)

    async def ready_for_cash(self) -> None:
        """Staff signed in and terminal open."""
        await self.add_staff()
        assert_ok(await self.sign_in())
        assert_ok(await self.open(1000))


async def _env(stack: Stack) -> AsyncIterator[Env]:
    async with httpx.AsyncClient(base_url=stack.url("terminal"), timeout=60) as http:
        mongo = AsyncMongoClient(stack.mongo_uri_for("terminal"), tz_aware=True)
        redis = aioredis.from_url(stack.redis_url)
        try:
            yield Env(stack, http, mongo, redis, TokenCodec(stack.secret_key))
        finally:
            await redis.aclose()
            await mongo.close()


@pytest.fixture
async def env(stack: Stack) -> AsyncIterator[Env]:
    async for value in _env(stack):
        yield value


async def make_world(env: Env, *, with_staff_service: bool = True) -> World:
    tenant_id = new_tenant_id("TT")
    admin = env.user(tenant_id)
    r = await env.http.post(
        "/api/v1/tenants",
        headers=admin,
        json={"tenantId": tenant_id, "tenantName": "Test tenant", "tags": ["t"]},
    )
    assert_ok(r, 201)
    store_code = "S" + secrets.token_hex(2).upper()
    r = await env.http.post(
        f"/api/v1/tenants/{tenant_id}/stores",
        headers=admin,
        json={"storeCode": store_code, "storeName": "Main store"},
    )
    assert_ok(r, 201)
    r = await env.http.post(
        "/api/v1/terminals",
        headers=admin,
        json={"storeCode": store_code, "terminalNo": 1, "description": "Register 1"},
    )
    data = assert_ok(r, 201)["data"]
    return World(env, tenant_id, store_code, data["terminalId"], data["apiKey"], admin)


@pytest.fixture
async def world(env: Env) -> World:
    return await make_world(env)


# ---- a private stack for the outage tests (sidecar stopped, relay restarted) -------------------

OUTAGE_ENV = {
    # Recover from a stopped sidecar in about a second instead of a minute.
    "BREAKER_RESET_SECONDS": "1",
    "OUTBOX_RETRY_MAX_SECONDS": "1",
    "OUTBOX_POLL_INTERVAL_SECONDS": "0.2",
    "HTTP_MAX_ATTEMPTS": "1",
}


# Module scope: stopped when the outage tests end (its relay would otherwise go on
# republishing events that no consumer of this terminal-only stack acknowledges).
@pytest.fixture(scope="module")
def outage_stack(stack_factory: Callable[..., Stack]) -> Stack:
    return stack_factory(services=(service("terminal"),), extra_env=OUTAGE_ENV)


@pytest.fixture
async def outage_env(outage_stack: Stack) -> AsyncIterator[Env]:
    async for value in _env(outage_stack):
        yield value


type Poll = Callable[[Callable[[], Awaitable[bool]], float], Awaitable[None]]


async def eventually(check: Callable[[], Awaitable[bool]], within: float = 20.0) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while asyncio.get_running_loop().time() < deadline:
        if await check():
            return
        await asyncio.sleep(0.1)
    raise AssertionError("condition not met in time")


@pytest.fixture
def poll() -> Poll:
    return eventually
