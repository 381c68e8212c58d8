"""Issue 8, v1 compatibility: a v1 terminal sends amounts back as the cart answers them
(`"totalAmountWithTax": 220.0`), reads `user_error`, and watches `/health` for
`background_jobs` and `dapr_cartstore`."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from kugelpos.devstack.pos import Register, Shop, open_shop
from kugelpos.devstack.stack import Stack
from kugelpos.testkit.testing import assert_error, assert_ok


@pytest.fixture(scope="module")
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=30) as c:
        yield c


@pytest.fixture(scope="module")
async def shop(stack: Stack, client: httpx.AsyncClient) -> Shop:
    urls = {name: stack.url(name) for name in ("account", "terminal", "master-data", "cart")}
    return await open_shop(client, urls)


@pytest.fixture
def till(client, shop) -> Register:
    return Register(client, shop, shop.tills[0])


async def _refund(till: Register, kind: str, transaction_no: int, tenders) -> httpx.Response:
    url = till.transactions_url(f"/{transaction_no}/{kind}")
    body = [{"paymentCode": code, "amount": amount} for code, amount in tenders]
    return await till.client.post(
        url, params=till.till.params, headers=till.till.headers, json=body
    )


async def _paid_sale(till: Register) -> dict:
    """A sale paid with the total exactly as the cart answered it (a float)."""
    cart_id = await till.create()
    assert_ok(await till.add(cart_id, ("4905", 2)))
    total = assert_ok(await till.subtotal(cart_id))["data"]["totalAmountWithTax"]
    assert isinstance(total, float) and total == int(total)  # `264.0`, as v1 clients see it
    r = await till.post(f"/{cart_id}/payments", [{"paymentCode": "01", "amount": total}])
    assert assert_ok(r)["data"]["balanceAmount"] == 0
    return assert_ok(await till.bill(cart_id))["data"]


async def test_payment_with_the_total_as_the_cart_answers_it(till) -> None:
    sale = await _paid_sale(till)
    assert sale["cartStatus"] == "Completed"
    assert sale["payments"][0]["paymentAmount"] == sale["totalAmountWithTax"]


async def test_void_and_return_with_whole_float_amounts(till) -> None:
    sale = await _paid_sale(till)
    total = float(sale["totalAmountWithTax"])
    voided = assert_ok(await _refund(till, "void", sale["transactionNo"], [("01", total)]))
    assert voided["data"]["transactionType"] == 201
    assert voided["data"]["totalAmountWithTax"] == total
    sale = await _paid_sale(till)
    returned = await _refund(till, "return", sale["transactionNo"], [("01", total)])
    assert assert_ok(returned)["data"]["transactionType"] == 102


async def test_a_fraction_of_a_yen_is_a_400_everywhere_and_changes_nothing(till) -> None:
    sale = await _paid_sale(till)
    number = sale["transactionNo"]
    for kind in ("void", "return"):
        body = assert_error(await _refund(till, kind, number, [("01", 1.5)]), 400, "300001")
        assert "smallest currency unit" in body["message"]
        assert body["user_error"] == body["userError"]
    # Still neither voided nor returned: the whole amount is accepted afterwards.
    total = float(sale["totalAmountWithTax"])
    assert_ok(await _refund(till, "void", number, [("01", total)]))

    cart_id = await till.create()
    assert_ok(await till.add(cart_id, ("4905", 1)))
    assert_ok(await till.subtotal(cart_id))
    r = await till.post(f"/{cart_id}/payments", [{"paymentCode": "01", "amount": 1.5}])
    body = assert_error(r, 400, "300001")
    assert "body -> 0 -> amount" in body["message"]
    assert assert_ok(await till.get(cart_id))["data"]["payments"] == []


async def test_prices_quantities_and_discounts_as_whole_floats(till) -> None:
    cart_id = await till.create()
    r = await till.post(
        f"/{cart_id}/lineItems", [{"itemCode": "4905", "quantity": 2.0, "unitPrice": 100.0}]
    )
    line = assert_ok(r)["data"]["lineItems"][0]
    assert (line["quantity"], line["unitPrice"], line["amount"]) == (2, 100, 200)
    r = await till.patch(f"/{cart_id}/lineItems/1/quantity", {"quantity": 3.0})
    assert assert_ok(r)["data"]["lineItems"][0]["quantity"] == 3
    r = await till.patch(f"/{cart_id}/lineItems/1/unitPrice", {"unitPrice": 110.0})
    assert assert_ok(r)["data"]["lineItems"][0]["amount"] == 330
    r = await till.post(
        f"/{cart_id}/lineItems/1/discounts",
        [{"discountType": "DiscountAmount", "discountValue": 30.0}],
    )
    assert assert_ok(r)["data"]["lineItems"][0]["amount"] == 300
    # Beyond the 6 decimals a price may have: 400, the line unchanged.
    r = await till.patch(f"/{cart_id}/lineItems/1/unitPrice", {"unitPrice": 110.0000001})
    assert_error(r, 400, "300001")
    assert assert_ok(await till.get(cart_id))["data"]["lineItems"][0]["unitPrice"] == 110


async def test_errors_carry_user_error(till) -> None:
    r = await till.get("00000000-0000-4000-8000-000000000000")
    body = assert_error(r, 404, "401002")
    assert body["user_error"] == {"code": "401002", "message": body["userError"]["message"]}


async def test_health_reports_background_jobs_and_the_cart_store(stack, client) -> None:
    r = await client.get(f"{stack.url('cart')}/health")
    assert r.status_code == 200, r.text
    checks = r.json()["checks"]
    expected = {"mongodb", "dapr_sidecar", "redis", "dapr_cartstore", "background_jobs"}
    assert expected <= set(checks)
    assert checks["dapr_cartstore"]["status"] == "healthy"
    jobs = checks["background_jobs"]
    assert jobs["status"] == "healthy"
    assert jobs["details"]["running"] is True
    assert isinstance(jobs["details"]["backlog"], int) and "last_run" in jobs["details"]
