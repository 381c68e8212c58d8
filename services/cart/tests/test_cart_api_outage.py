"""Outages on a private stack (breakers and the relay recover in about a second): the tranlog
of a completed sale is published exactly once even when the Dapr sidecar is stopped during the
bill, and a till keeps selling what it has seen while master-data is down."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable

import httpx
import pytest
import redis.asyncio as aioredis
from pymongo import AsyncMongoClient

from kugelpos.devstack.pos import Register, open_shop
from kugelpos.devstack.stack import Stack
from kugelpos.registry.services import service
from kugelpos.testkit.testing import assert_error, assert_ok

TOPIC = "tranlog_report"
OUTAGE_ENV = {
    "BCRYPT_ROUNDS": "4",
    "BREAKER_RESET_SECONDS": "1",
    "OUTBOX_RETRY_MAX_SECONDS": "1",
    "OUTBOX_POLL_INTERVAL_SECONDS": "0.2",
    "HTTP_MAX_ATTEMPTS": "1",
    # Cached reads expire at once, so a read during the master-data outage is a real miss.
    "MASTER_CACHE_TTL_SECONDS": "0.2",
}


@pytest.fixture(scope="module")
def outage_stack(stack_factory: Callable[..., Stack]) -> Stack:
    names = ("account", "terminal", "master-data", "cart")
    return stack_factory(services=tuple(service(n) for n in names), extra_env=OUTAGE_ENV)


@pytest.fixture(scope="module")
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=30) as c:
        yield c


async def published(stack: Stack, event_id: str) -> int:
    redis = aioredis.from_url(stack.redis_url)
    try:
        count = 0
        for _, fields in await redis.xrange(TOPIC):
            if (json.loads(fields[b"data"]).get("data") or {}).get("event_id") == event_id:
                count += 1
        return count
    finally:
        await redis.aclose()


async def event_of(stack: Stack, tenant_id: str, transaction_no: int) -> str:
    mongo = AsyncMongoClient(stack.mongo_uri_for("cart"), tz_aware=True)
    try:
        record = await mongo[stack.db_name("cart", "commons")]["outbox"].find_one(
            {"tenant_id": tenant_id, "keys.transaction_no": transaction_no}
        )
        assert record is not None
        return record["event_id"]
    finally:
        await mongo.close()


async def exactly_once(stack: Stack, event_id: str) -> None:
    deadline = asyncio.get_running_loop().time() + 20
    while await published(stack, event_id) == 0:
        assert asyncio.get_running_loop().time() < deadline, "never published"
        await asyncio.sleep(0.1)
    await asyncio.sleep(1.5)  # several relay rounds: nothing more may come
    assert await published(stack, event_id) == 1


async def until_ok(call, seconds: float = 15) -> httpx.Response:
    deadline = asyncio.get_running_loop().time() + seconds
    while True:
        response = await call()
        if response.status_code == 200 or asyncio.get_running_loop().time() > deadline:
            return response
        assert response.status_code in (500, 502, 503), response.text
        await asyncio.sleep(0.2)


async def test_sale_published_once_across_a_sidecar_outage(outage_stack, client):
    stack = outage_stack
    urls = {n: stack.url(n) for n in ("account", "terminal", "master-data", "cart")}
    shop = await open_shop(client, urls)
    till = Register(client, shop, shop.tills[0])

    # 1. The sidecar goes away after payment: the bill is refused whole, then retried.
    cart_id = await till.create()
    assert_ok(await till.add(cart_id, ("4901", 1), ("4902", 2)))
    assert_ok(await till.subtotal(cart_id))
    assert_ok(await till.pay(cart_id, ("01", 5000)))
    stack.stop_component("sidecar")
    try:
        refused = await till.bill(cart_id, key="bill-during-outage")
        assert_error(refused, 503)
    finally:
        stack.start_component("sidecar")
    billed = assert_ok(await until_ok(lambda: till.bill(cart_id, key="bill-during-outage")))
    event_id = await event_of(stack, shop.tenant_id, billed["data"]["transactionNo"])
    await exactly_once(stack, event_id)
    # A retry after the outage replays the bill; nothing is recorded or published again.
    again = assert_ok(await till.bill(cart_id, key="bill-during-outage"))
    assert again["data"]["transactionNo"] == billed["data"]["transactionNo"]
    await exactly_once(stack, event_id)

    # 2. The sidecar goes away right after the bill committed: the relay publishes when it
    #    is back, once.
    cart_id = await till.create()
    assert_ok(await till.add(cart_id, ("4905", 3)))
    assert_ok(await till.subtotal(cart_id))
    assert_ok(await till.pay(cart_id, ("11", 388)))
    billed = assert_ok(await till.bill(cart_id))["data"]
    stack.stop_component("sidecar")
    await asyncio.sleep(1)
    stack.start_component("sidecar")
    event_id = await event_of(stack, shop.tenant_id, billed["transactionNo"])
    await exactly_once(stack, event_id)


async def test_a_sale_completes_while_master_data_is_down(outage_stack, client):
    stack = outage_stack
    urls = {n: stack.url(n) for n in ("account", "terminal", "master-data", "cart")}
    shop = await open_shop(client, urls)
    till = Register(client, shop, shop.tills[0])
    # The till has sold these before (the cart keeps their last good answers).
    await till.sale(("4901", 1), ("4902", 1))  # checks each step itself

    cart_id = await till.create()
    assert_ok(await till.add(cart_id, ("4901", 1)))
    stack.stop_component("master-data")
    try:
        await asyncio.sleep(0.5)  # past the cache TTL: every read below goes to master-data
        added = assert_ok(await till.add(cart_id, ("4902", 2)))["data"]
        assert [line["itemCode"] for line in added["lineItems"]] == ["4901", "4902"]
        # An item this cart process never saw cannot be sold blind: 503, nothing added.
        unseen = await till.add(cart_id, ("4904", 1))
        assert_error(unseen, 503)
        total = int(assert_ok(await till.subtotal(cart_id))["data"]["totalAmountWithTax"])
        assert total == 1100 + 2 * 298  # the prices of the last good answers
        assert_ok(await till.pay(cart_id, ("01", total)))
        billed = assert_ok(await till.bill(cart_id))["data"]
        assert billed["balanceAmount"] == 0 and len(billed["lineItems"]) == 2
    finally:
        stack.start_component("master-data")
    metrics = (await client.get(f"{urls['cart']}/metrics")).text.splitlines()
    served = [m for m in metrics if m.startswith("dependency_fallbacks_total{")]
    assert any('dependency="master-data"' in m and 'what="item"' in m for m in served), served
    # Once master-data is back, the unseen item sells again.
    cart_id = await till.create()
    assert_ok(await until_ok(lambda: till.add(cart_id, ("4904", 1))))
