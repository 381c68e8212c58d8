"""The cart killed in the middle of an offline upload (issue 27), on a private stack: each sale
is recorded in its own transaction, so the till's retry of the same batch finds the sales
recorded before the kill (`duplicate`) and records the rest (`accepted`); in the end every
sale is recorded once, with exactly one outbox event."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from decimal import Decimal as D

import httpx
import pytest
from pymongo import AsyncMongoClient

from kugelpos.cart.domain.models import Cart, LineItem, Payment
from kugelpos.cart.pricing.engine import PricingContext, recalculate
from kugelpos.devstack.pos import Register, open_shop
from kugelpos.devstack.stack import Stack
from kugelpos.registry.services import service
from kugelpos.testkit.testing import assert_ok

NAMES = ("account", "terminal", "master-data", "cart")
FAULT_ENV = {"BCRYPT_ROUNDS": "4", "BREAKER_RESET_SECONDS": "1", "HTTP_MAX_ATTEMPTS": "1"}
SALES = 200


@pytest.fixture(scope="module")
def fault_stack(stack_factory: Callable[..., Stack]) -> Stack:
    return stack_factory(services=tuple(service(n) for n in NAMES), extra_env=FAULT_ENV)


@pytest.fixture(scope="module")
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=120) as c:
        yield c


def priced(quantity: int) -> Cart:
    line = LineItem(
        line_no=1,
        item_code="4901",
        item_name="Green Tea 500ml",
        tax_code="01",
        unit_price=D(1000),
        quantity=quantity,
    )
    cart = recalculate(Cart(cart_id="offline", line_items=(line,)), PricingContext())
    total = cart.total_amount_with_tax
    cash = Payment(payment_no=1, payment_code="01", payment_amount=total, deposit_amount=total)
    return recalculate(cart.model_copy(update={"payments": (cash,)}), PricingContext())


async def test_cart_killed_mid_upload_loses_and_doubles_nothing(fault_stack, client, b):
    shop = await open_shop(client, {n: fault_stack.url(n) for n in NAMES})
    register = Register(client, shop, shop.tills[0])
    till = register.till
    terminal = shop.url("terminal", f"/api/v1/terminals/{till.terminal_id}")
    r = await client.get(terminal, headers=till.headers, params=till.params)
    session = assert_ok(r)["data"]
    r = await client.post(f"{terminal}/offline-numbers", json={"size": SALES}, headers=till.headers)
    block = assert_ok(r)["data"]
    t0, r0 = block["transactionNoFrom"], block["receiptNoFrom"]
    now = datetime.now(UTC).isoformat()
    sales = [
        b.offline_sale(
            priced(1 + i % 3),
            offline_id=f"k-{i}",
            transaction_no=t0 + i,
            receipt_no=r0 + i,
            business_date=session["businessDate"],
            open_counter=session["openCounter"],
            generate_date_time=now,
        )
        for i in range(SALES)
    ]
    url = register.transactions_url("/offline")

    async def upload() -> httpx.Response:
        return await client.post(
            url, json={"transactions": sales}, headers=till.headers, params=till.params
        )

    mongo = AsyncMongoClient(fault_stack.mongo_uri_for("cart"), tz_aware=True)
    tranlogs = mongo[fault_stack.db_name("cart", shop.tenant_id)]["log_tran"]
    outbox = mongo[fault_stack.db_name("cart", "commons")]["outbox"]
    mine = {"terminal_id": till.terminal_id, "offline": True}
    try:
        # Kill the cart once part of the batch is recorded.
        in_flight = asyncio.create_task(upload())
        deadline = asyncio.get_running_loop().time() + 60
        while await tranlogs.count_documents(mine) < 5:
            assert not in_flight.done(), in_flight.result().text
            assert asyncio.get_running_loop().time() < deadline, "nothing recorded"
            await asyncio.sleep(0.02)
        assert fault_stack.kill_component("cart")
        with pytest.raises(httpx.HTTPError):
            await in_flight
        before = await tranlogs.count_documents(mine)
        assert 5 <= before < SALES, before
        fault_stack.start_component("cart")

        # The till sends the same batch again.
        results = assert_ok(await upload())["data"]
        statuses = [r["status"] for r in results]
        assert statuses.count("duplicate") == before
        assert statuses.count("accepted") == SALES - before
        assert [r["transactionNo"] for r in results] == [t0 + i for i in range(SALES)]
        # Everything once: the tranlogs, and one outbox event each.
        cursor = tranlogs.find(mine, {"_id": False, "transaction_no": True, "event_id": True})
        docs = await cursor.to_list()
        assert sorted(d["transaction_no"] for d in docs) == [t0 + i for i in range(SALES)]
        events = {d["event_id"] for d in docs}
        assert len(events) == SALES
        recorded = await outbox.count_documents({"event_id": {"$in": sorted(events)}})
        assert recorded == SALES
        # And a third delivery changes nothing.
        again = assert_ok(await upload())["data"]
        assert {r["status"] for r in again} == {"duplicate"}
        assert await tranlogs.count_documents(mine) == SALES
    finally:
        await mongo.close()
