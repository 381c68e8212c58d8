"""Cash ceilings through HTTP: a cash tender or change above the tenant's ceiling (settings
master `CASH_TENDER_LIMIT` / `CASH_CHANGE_LIMIT`, else the defaults 1,000,000 / 100,000) is
400 with 403010 / 403011, and the cart is left as it was."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from kugelpos.devstack.pos import Register, Shop, open_shop
from kugelpos.devstack.stack import Stack
from kugelpos.testkit.testing import assert_error, assert_ok

SERVICES = ("account", "terminal", "master-data", "cart")


def setting(name: str, value: str) -> dict:
    return {"name": name, "defaultValue": value, "values": []}


@pytest.fixture(scope="module")
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=30) as c:
        yield c


@pytest.fixture(scope="module")
async def capped(stack: Stack, client: httpx.AsyncClient) -> Shop:
    urls = {name: stack.url(name) for name in SERVICES}
    limits = [setting("CASH_TENDER_LIMIT", "50000"), setting("CASH_CHANGE_LIMIT", "5000")]
    return await open_shop(client, urls, settings=limits)


@pytest.fixture(scope="module")
async def plain(stack: Stack, client: httpx.AsyncClient) -> Shop:
    return await open_shop(client, {name: stack.url(name) for name in SERVICES})


async def _cart_of(till: Register, *items: tuple[str, int]) -> tuple[str, dict]:
    cart_id = await till.create()
    assert_ok(await till.add(cart_id, *items))
    return cart_id, assert_ok(await till.subtotal(cart_id))["data"]


async def _unchanged(till: Register, cart_id: str, before: dict) -> None:
    after = assert_ok(await till.get(cart_id))["data"]
    assert after["payments"] == [] and after["cartStatus"] == "Paying"
    assert after["balanceAmount"] == before["balanceAmount"]
    assert after["depositAmount"] == 0 and after["changeAmount"] == 0


async def test_the_tenants_ceilings(client, capped) -> None:
    till = Register(client, capped, capped.tills[0])
    cart_id, before = await _cart_of(till, ("4901", 1))  # 1,100 with tax
    assert before["totalAmountWithTax"] == 1100
    r = await till.pay(cart_id, ("01", 50001))
    body = assert_error(r, 400, "403010")
    assert "50000" in body["message"]
    await _unchanged(till, cart_id, before)
    r = await till.post(f"/{cart_id}/payments", [{"paymentCode": "01", "amount": 6101}])
    assert_error(r, 400, "403011")  # change 5,001
    await _unchanged(till, cart_id, before)
    # Japanese for the till's screen.
    r = await till.client.post(
        f"{till.base}/{cart_id}/payments",
        params=till.till.params,
        headers=till.till.headers | {"Accept-Language": "ja"},
        json=[{"paymentCode": "01", "amount": 6101}],
    )
    assert assert_error(r, 400, "403011")["userError"]["message"] == "お釣りが上限を超えています"
    # A card pays part, cash the rest with change at the ceiling: accepted and billed.
    r = await till.pay(cart_id, ("11", 100), ("01", 6000))
    paid = assert_ok(r)["data"]
    assert (paid["balanceAmount"], paid["changeAmount"], paid["depositAmount"]) == (0, 5000, 6100)
    billed = assert_ok(await till.bill(cart_id))["data"]
    assert billed["changeAmount"] == 5000


async def test_the_default_ceilings(client, plain) -> None:
    till = Register(client, plain, plain.tills[0])
    cart_id, before = await _cart_of(till, ("4906", 1))  # 3,000, tax exempt
    assert_error(await till.pay(cart_id, ("01", 1_000_001)), 400, "403010")
    await _unchanged(till, cart_id, before)
    assert_error(await till.pay(cart_id, ("01", 103_001)), 400, "403011")  # change 100,001
    await _unchanged(till, cart_id, before)
    paid = assert_ok(await till.pay(cart_id, ("01", 103_000)))["data"]
    assert paid["changeAmount"] == 100_000
    assert_ok(await till.bill(cart_id))
