"""Fixtures of the stock integration tests (HTTP against the embedded session stack).

Tokens are minted with the stack's secret exactly as account and terminal issue them; tenant
set-up goes through stock's own `POST /api/v1/tenants`.
"""

from __future__ import annotations

import asyncio
import re
import secrets
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
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


# A code master-data can hold (stock's own bounds are wider: such a code is always unknown).
MASTER_CODE = re.compile(r"[^\s/?#%\\\x00-\x1f\x7f]{1,64}")


@dataclass
class Tenant:
    tenant_id: str
    codec: TokenCodec
    terminal_url: str = ""
    md_url: str = ""  # master-data: stock's back-office requests check their items there
    known: set[str] = field(default_factory=set)

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

    async def know(self, *codes: str, category: str = "STOCKTEST") -> None:
        """Make `codes` active items of the tenant's master-data, as its back office would
        before adjusting, receiving, counting or moving them (stock refuses unknown items on
        those requests). Codes master-data cannot hold are left out (stock refuses them)."""
        assert self.md_url, "a tenant made without master-data (setup_tenant(md_url=...))"
        new = [c for c in dict.fromkeys(codes) if c not in self.known and MASTER_CODE.fullmatch(c)]
        if not new:
            return
        gate = asyncio.Semaphore(8)

        async def one(md: httpx.AsyncClient, code: str) -> None:
            body = {
                "itemCode": code,
                "description": f"Item {code}",
                "unitPrice": 100,
                "unitCost": 50,
                "itemDetails": [],
                "imageUrls": [],
                "categoryCode": category,
                "taxCode": "01",
            }
            async with gate:
                r = await md.post(f"{self.base}/items", json=body, headers=self.admin)
            assert r.status_code in (201, 409), r.text

        async with httpx.AsyncClient(base_url=self.md_url, timeout=30) as md:
            await asyncio.gather(*(one(md, code) for code in new))
        self.known.update(new)

    async def till(self, store_code: str = "S1", terminal_no: int = 1) -> dict[str, str]:
        """A real terminal's JWT (every service checks terminal credentials live)."""
        return await till_bearer(
            self.terminal_url, self.admin, self.tenant_id, store_code, terminal_no
        )


async def know_lines(tenant: Tenant, lines: Any) -> None:
    """The item codes of request lines (`itemCode`) made items of the tenant's master-data
    (helpers call it before sending a back-office request; a tenant without master-data,
    e.g. another tenant refused 403, is left alone)."""
    if tenant.md_url and isinstance(lines, list):
        codes = [x.get("itemCode") for x in lines if isinstance(x, dict)]
        await tenant.know(*(c for c in codes if isinstance(c, str)))


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
    client: httpx.AsyncClient, codec: TokenCodec, terminal_url: str = "", md_url: str = ""
) -> Tenant:
    """A tenant of stock and, given `md_url`, of master-data (its item master)."""
    tenant = Tenant(new_tenant_id(), codec, terminal_url, md_url)
    r = await client.post(
        "/api/v1/tenants", json={"tenantId": tenant.tenant_id}, headers=tenant.admin
    )
    assert r.status_code == 201, r.text
    if md_url:
        async with httpx.AsyncClient(base_url=md_url, timeout=30) as md:
            r = await md.post(
                "/api/v1/tenants", json={"tenantId": tenant.tenant_id}, headers=tenant.admin
            )
            assert r.status_code == 201, r.text
    return tenant


@pytest.fixture
async def tenant(stack: Stack, client: httpx.AsyncClient, codec: TokenCodec) -> Tenant:
    return await setup_tenant(client, codec, stack.url("terminal"), stack.url("master-data"))


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
