"""A real store through the other services: the terminal's tenant set-up reaches the journal,
opening a till (open + opening float), a sale billed by the cart, cash in and close all land
in the journal, and each publisher's delivery status shows `received` for journal."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from pymongo import AsyncMongoClient

from kugelpos.devstack.pos import Register, Shop, open_shop
from kugelpos.devstack.stack import Stack
from kugelpos.testkit.consumers import tenant_setup_statuses
from kugelpos.testkit.testing import assert_error, assert_ok


@pytest.fixture(scope="module")
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=30) as c:
        yield c


@pytest.fixture(scope="module")
async def shop(stack: Stack, client) -> Shop:
    urls = {name: stack.url(name) for name in ("account", "terminal", "master-data", "cart")}
    return await open_shop(client, urls)


async def consumer_status(stack: Stack, service: str, event_id: str) -> str | None:
    mongo = AsyncMongoClient(stack.mongo_uri_for(service), tz_aware=True)
    try:
        record = await mongo[stack.db_name(service, "commons")]["outbox"].find_one(
            {"event_id": event_id}
        )
    finally:
        await mongo.close()
    if record is None:
        return None
    return next(c["status"] for c in record["consumers"] if c["service_name"] == "journal")


async def test_terminal_tenant_setup_reports_journal_ok(stack, shop):
    setup = await tenant_setup_statuses(stack, shop.tenant_id)
    assert setup["journal"] == "ok", setup


async def test_a_store_day_lands_in_the_journal(stack, client, shop, mongo, wait):
    till = shop.tills[0]
    register = Register(client, shop, till)
    billed = await register.sale(("4901", 2))
    terminal = shop.url("terminal", f"/api/v1/terminals/{till.terminal_id}")
    cash = assert_ok(
        await client.post(f"{terminal}/cash-in", headers=till.headers, json={"amount": 1234})
    )["data"]
    closed = assert_ok(await client.post(f"{terminal}/close", headers=till.headers))["data"]
    db = mongo[stack.db_name("journal", shop.tenant_id)]

    async def journalled():
        types = [e["transaction_type"] async for e in db["journal"].find({})]
        return types if {101, 301, 302, 401} <= set(types) else None

    types = await wait(journalled)
    assert sorted(types) == [101, 301, 302, 401, 401]  # float and cash-in are both 401
    sale = await db["journal"].find_one({"transaction_type": 101})
    assert sale["transaction_no"] == billed["transactionNo"]
    assert sale["receipt_no"] == billed["receiptNo"]
    assert sale["amount"] == billed["totalAmountWithTax"]
    assert sale["journal_text"] == billed["journalText"]

    # Every publisher hears `received` from the journal.
    cart_mongo = AsyncMongoClient(stack.mongo_uri_for("cart"), tz_aware=True)
    try:
        record = await cart_mongo[stack.db_name("cart", "commons")]["outbox"].find_one(
            {"tenant_id": shop.tenant_id, "keys.transaction_no": billed["transactionNo"]}
        )
    finally:
        await cart_mongo.close()
    for service, event_id in (
        ("cart", record["event_id"]),
        ("terminal", cash["eventId"]),
        ("terminal", closed["eventId"]),
    ):

        async def received(service=service, event_id=event_id):
            return await consumer_status(stack, service, event_id) == "received"

        await wait(received)

    # The till reads its own store's journal with its API key, and nothing else.
    journals = f"{stack.url('journal')}/api/v1/tenants/{shop.tenant_id}/stores"
    r = await client.get(
        f"{journals}/{shop.store_code}/journals",
        params={**till.params, "transaction_types": [101]},
        headers=till.headers,
    )
    assert [e["receiptNo"] for e in assert_ok(r)["data"]] == [billed["receiptNo"]]
    r = await client.get(
        f"{journals}/{shop.store_code}/terminals/{till.terminal_no}/receipts/{billed['receiptNo']}",
        params=till.params,
        headers=till.headers,
    )
    assert assert_ok(r)["data"]["transactionNo"] == billed["transactionNo"]
    r = await client.get(f"{journals}/ELSEWHERE/journals", params=till.params, headers=till.headers)
    assert_error(r, 403)
    r = await client.get(
        f"{journals}/{shop.store_code}/journals",
        params=till.params,
        headers={"X-API-KEY": "not-the-key"},
    )
    assert_error(r, 401)
