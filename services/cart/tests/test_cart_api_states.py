"""Every refusal of the state machine through HTTP (400 / 300004, nothing changed), and the
input and business refusals of the cart endpoints with their codes."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import httpx
import pytest

from kugelpos.cart.domain.models import CartStatus
from kugelpos.cart.state_machine import CartOperation, is_allowed
from kugelpos.devstack.pos import Register, Shop, add_till, open_shop
from kugelpos.devstack.stack import Stack
from kugelpos.testkit.testing import assert_error, assert_ok

Op = CartOperation
S = CartStatus


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


async def cart_in(till: Register, state: CartStatus) -> str:
    cart_id = await till.create()
    if state is S.CANCELLED:
        assert_ok(await till.post(f"/{cart_id}/cancel"))
        return cart_id
    if state is S.IDLE:
        return cart_id
    assert_ok(await till.add(cart_id, ("4905", 1)))
    if state is S.ENTERING_ITEM:
        return cart_id
    assert_ok(await till.subtotal(cart_id))
    if state is S.PAYING:
        return cart_id
    assert_ok(await till.pay(cart_id, ("01", 200)))
    assert_ok(await till.bill(cart_id))
    return cart_id


REQUESTS: dict[CartOperation, Callable[[Register, str], Awaitable[httpx.Response]]] = {
    Op.GET: lambda t, c: t.get(c),
    Op.ADD_ITEMS: lambda t, c: t.add(c, ("4905", 1)),
    Op.CANCEL_LINE_ITEM: lambda t, c: t.post(f"/{c}/lineItems/1/cancel"),
    Op.UPDATE_QUANTITY: lambda t, c: t.patch(f"/{c}/lineItems/1/quantity", {"quantity": 2}),
    Op.UPDATE_UNIT_PRICE: lambda t, c: t.patch(f"/{c}/lineItems/1/unitPrice", {"unitPrice": 99}),
    Op.ADD_LINE_DISCOUNTS: lambda t, c: t.post(
        f"/{c}/lineItems/1/discounts", [{"discountType": "DiscountAmount", "discountValue": 1}]
    ),
    Op.SUBTOTAL: lambda t, c: t.subtotal(c),
    Op.ADD_SUBTOTAL_DISCOUNTS: lambda t, c: t.post(
        f"/{c}/discounts", [{"discountType": "DiscountAmount", "discountValue": 1}]
    ),
    Op.ADD_PAYMENTS: lambda t, c: t.pay(c, ("01", 1)),
    Op.BILL: lambda t, c: t.bill(c),
    Op.RESUME_ITEM_ENTRY: lambda t, c: t.post(f"/{c}/resume-item-entry"),
    Op.CANCEL: lambda t, c: t.post(f"/{c}/cancel"),
}
STORED = [S.IDLE, S.ENTERING_ITEM, S.PAYING, S.COMPLETED, S.CANCELLED]
REFUSED = [(state, op) for state in STORED for op in REQUESTS if not is_allowed(state, op)]


def test_every_operation_has_a_request() -> None:
    assert set(REQUESTS) == set(CartOperation) - {Op.CREATE}


@pytest.mark.parametrize(
    ("state", "operation"), REFUSED, ids=[f"{s.value}-{o.value}" for s, o in REFUSED]
)
async def test_state_machine_refusals(till, state, operation):
    cart_id = await cart_in(till, state)
    before = assert_ok(await till.get(cart_id))["data"]
    body = assert_error(await REQUESTS[operation](till, cart_id), 400, "300004")
    assert "Invalid event" in body["message"] and f"{state.value}State" in body["message"]
    after = assert_ok(await till.get(cart_id))["data"]
    assert after == before


async def test_unknown_cart_is_404(till):
    assert_error(await till.get("00000000-0000-4000-8000-000000000000"), 404, "401002")


async def test_line_number_outside_the_cart_is_404(till):
    cart_id = await cart_in(till, S.ENTERING_ITEM)
    for line_no in (0, 2, -1):
        r = await till.patch(f"/{cart_id}/lineItems/{line_no}/quantity", {"quantity": 2})
        assert_error(r, 404, "100001")


async def test_bad_quantities_and_amounts(till):
    cart_id = await cart_in(till, S.ENTERING_ITEM)
    assert_error(await till.add(cart_id, ("4905", 0)), 400, "300001")
    assert_error(await till.add(cart_id, ("4905", -3)), 400, "300001")
    r = await till.patch(f"/{cart_id}/lineItems/1/quantity", {"quantity": 0})
    assert_error(r, 400, "300001")
    # A fraction of a yen is a well-formed request with a wrong amount: 400 (issue 8).
    r = await till.post(f"/{cart_id}/payments", [{"paymentCode": "01", "amount": 1.5}])
    assert_error(r, 400, "300001")
    assert_error(await till.pay(cart_id, ("01", -5)), 400, "300001")
    r = await till.post(
        f"/{cart_id}/lineItems/1/discounts",
        [{"discountType": "DiscountPercentage", "discountValue": 150}],
    )
    assert_error(r, 400)
    r = await till.post(
        f"/{cart_id}/lineItems/1/discounts", [{"discountType": "Bogus", "discountValue": 1}]
    )
    assert_error(r, 400)
    r = await till.post(
        f"/{cart_id}/lineItems/1/discounts",
        [{"discountType": "DiscountAmount", "discountValue": 1000}],
    )
    assert_error(r, 400, "402002")
    cart = assert_ok(await till.get(cart_id))["data"]
    assert cart["totalQuantity"] == 1 and cart["lineItems"][0]["discounts"] == []


async def test_unknown_item_is_402001(till):
    cart_id = await till.create()
    assert_error(await till.add(cart_id, ("no-such-item", 1)), 404, "402001")
    assert assert_ok(await till.get(cart_id))["data"]["cartStatus"] == "Idle"


async def test_payment_refusals(till):
    cart_id = await cart_in(till, S.PAYING)  # total 120 * 1.08 = 129.6 → tax floor 9 → 129
    total = assert_ok(await till.get(cart_id))["data"]["totalAmountWithTax"]
    assert_error(await till.pay(cart_id, ("11", int(total) + 1)), 406, "403004")
    assert_error(await till.pay(cart_id, ("12", int(total) + 1)), 406, "403004")
    assert_error(await till.pay(cart_id, ("99", 1)), 400, "300001")
    assert_error(await till.bill(cart_id), 406, "403002")
    assert_ok(await till.pay(cart_id, ("01", int(total))))
    assert_error(await till.pay(cart_id, ("01", 1)), 406, "403001")
    assert_ok(await till.bill(cart_id))


async def test_cart_on_a_terminal_that_is_not_open(client, shop):
    till = await add_till(client, shop, 77)
    register = Register(client, shop, till)
    r = await register.post("", {"transactionType": 101})
    assert_error(r, 400, "404001")


async def test_user_token_is_not_a_terminal(client, shop, till):
    r = await client.post(till.base, headers=shop.admin, json={})
    assert_error(r, 403)
    r = await client.post(till.base, json={})
    assert_error(r, 401)
    r = await client.post(till.base, params=till.till.params, headers={"X-API-KEY": "wrong"})
    assert_error(r, 401)
