"""Fixtures of the stock integration tests (HTTP against the embedded session stack).

Tokens are minted with the stack's secret exactly as account and terminal issue them; tenant
set-up goes through stock's own `POST /api/v1/tenants`.
"""

from __future__ import annotations

import asyncio
import secrets
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
import pytest

from kugelpos.common.auth.tokens import TokenCodec
from kugelpos.devstack.stack import Stack
from kugelpos.testkit.testing import new_tenant_id, till_bearer

HOUR = timedelta(hours=1)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@dataclass
class Tenant:
    tenant_id: str
    codec: TokenCodec
    terminal_url: str = ""

    @property
    def base(self) -> str:
        return f"/api/v1/tenants/{self.tenant_id}"

    def stock(self, store: str, path: str = "") -> str:
        return f"{self.base}/stores/{store}/stock{path}"

    @property
    def token(self) -> str:
        return self.codec.issue_user_token(
            username="admin",
            tenant_id=self.tenant_id,
            is_superuser=True,
            roles=["admin"],
            lifetime=HOUR,
        )

    @property
    def admin(self) -> dict[str, str]:
        return bearer(self.token)

    async def till(self, store_code: str = "S1", terminal_no: int = 1) -> dict[str, str]:
        """A real terminal's JWT (every service checks terminal credentials live)."""
        return await till_bearer(
            self.terminal_url, self.admin, self.tenant_id, store_code, terminal_no
        )


def new_store() -> str:
    return "S" + secrets.token_hex(3).upper()


def tranlog(
    tenant_id: str,
    store_code: str,
    lines: list[tuple[str, Any]],
    *,
    transaction_type: int = 101,
    transaction_no: int | None = None,
    terminal_no: int = 1,
    cancelled: bool = False,
    cancelled_lines: tuple[int, ...] = (),
    event_id: str | None = None,
) -> dict[str, Any]:
    """A transaction log as the cart publishes it on `tranlog_report`."""
    return {
        "event_id": event_id or uuid.uuid4().hex,
        "tenant_id": tenant_id,
        "store_code": store_code,
        "terminal_no": terminal_no,
        "business_date": "20250105",
        "generate_date_time": "2025-01-05T11:00:00+09:00",
        "transaction_no": transaction_no or secrets.randbelow(10**9) + 1,
        "transaction_type": transaction_type,
        "sales": {"is_cancelled": cancelled, "total_amount": 100},
        "line_items": [
            {
                "line_no": i + 1,
                "item_code": code,
                "quantity": qty,
                "unit_price": 100,
                "is_cancelled": i in cancelled_lines,
            }
            for i, (code, qty) in enumerate(lines)
        ],
        "payments": [],
    }


@pytest.fixture(scope="session")
def codec(stack: Stack) -> TokenCodec:
    return TokenCodec(stack.secret_key)


@pytest.fixture
async def client(stack: Stack) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=stack.url("stock"), timeout=30) as c:
        yield c


async def setup_tenant(
    client: httpx.AsyncClient, codec: TokenCodec, terminal_url: str = ""
) -> Tenant:
    tenant = Tenant(new_tenant_id(), codec, terminal_url)
    r = await client.post(
        "/api/v1/tenants", json={"tenantId": tenant.tenant_id}, headers=tenant.admin
    )
    assert r.status_code == 201, r.text
    return tenant


@pytest.fixture
async def tenant(stack: Stack, client: httpx.AsyncClient, codec: TokenCodec) -> Tenant:
    return await setup_tenant(client, codec, stack.url("terminal"))


async def publish(stack: Stack, data: dict[str, Any], topic: str = "tranlog_report") -> None:
    # As the app the component's scopes let publish the topic (the cart, for sales).
    headers = stack.dapr_headers(stack.publisher_of(topic))
    async with httpx.AsyncClient(timeout=30) as c:
        r = await c.post(
            f"{stack.sidecar_url}/v1.0/publish/pubsub/{topic}", json=data, headers=headers
        )
        assert r.status_code == 204, r.text


async def eventually[T](
    probe: Callable[[], Awaitable[T]], done: Callable[[T], bool], *, seconds: float = 30.0
) -> T:
    """Poll until `done(value)`; returns the last value (the caller asserts on it)."""
    deadline = asyncio.get_running_loop().time() + seconds
    value = await probe()
    while not done(value) and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.1)
        value = await probe()
    return value


async def quantity(
    client: httpx.AsyncClient, tenant: Tenant, store: str, item: str
) -> float | None:
    r = await client.get(tenant.stock(store, f"/{item}"), headers=tenant.admin)
    if r.status_code == 404:
        return None
    assert r.status_code == 200, r.text
    return r.json()["data"]["currentQuantity"]


async def history(client: httpx.AsyncClient, tenant: Tenant, store: str, item: str) -> list[dict]:
    r = await client.get(
        tenant.stock(store, f"/{item}/history"), params={"limit": 1000}, headers=tenant.admin
    )
    assert r.status_code == 200, r.text
    return r.json()["data"]["data"]
