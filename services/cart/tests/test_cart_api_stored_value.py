"""Gift cards and store credit at the till (issue 26), through the cart, the stored-value
service and the cart's transaction logs on the real sidecar: a card sold and loaded at the
bill, a card payment held then captured, holds given back (cancelled cart, payments taken
back, a refused tender), a void that unloads an untouched card and is refused once it is
used, a return to new store credit, and the bad lines that write nothing."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest

from kugelpos.devstack.pos import (
    CARD_PAYMENT,
    DEFAULT_ITEMS,
    DEFAULT_PAYMENTS,
    GIFT_CARD_ITEM,
    Register,
    Shop,
    open_shop,
)
from kugelpos.devstack.stack import Stack
from kugelpos.testkit.testing import assert_error, assert_ok

SERVICES = ("account", "terminal", "master-data", "cart", "stored-value")


@pytest.fixture(scope="module")
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=30) as c:
        yield c


@pytest.fixture(scope="module")
async def shop(stack: Stack, client: httpx.AsyncClient) -> Shop:
    urls = {name: stack.url(name) for name in SERVICES}
    return await open_shop(
        client,
        urls,
        terminals=1,
        items=(*DEFAULT_ITEMS, GIFT_CARD_ITEM),
        payments=(*DEFAULT_PAYMENTS, CARD_PAYMENT),
    )


@pytest.fixture
def till(client, shop) -> Register:
    return Register(client, shop, shop.tills[0])


class Cards:
    """The back office's side: issue cards, read them whole (admin), wait for the logs."""

    def __init__(self, client: httpx.AsyncClient, shop: Shop) -> None:
        self.client, self.shop = client, shop
        self.base = shop.url("stored-value", f"/api/v1/tenants/{shop.tenant_id}")

    async def issue(self) -> str:
        r = await self.client.post(
            f"{self.base}/cards", json={"kind": "gift", "count": 1}, headers=self.shop.admin
        )
        return assert_ok(r, 201)["data"][0]["cardNo"]

    async def read(self, card_no: str) -> dict[str, Any]:
        r = await self.client.get(f"{self.base}/cards/{card_no}", headers=self.shop.admin)
        return assert_ok(r)["data"]

    async def ledger(self, card_no: str) -> list[str]:
        r = await self.client.get(f"{self.base}/cards/{card_no}/ledger", headers=self.shop.admin)
        return [e["kind"] for e in assert_ok(r)["data"]]

    async def until(self, card_no: str, check: Callable[[dict], bool], within: float = 20) -> dict:
        deadline = asyncio.get_running_loop().time() + within
        while True:
            card = await self.read(card_no)
            if check(card):
                return card
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"card never reached the state: {card}")
            await asyncio.sleep(0.1)


@pytest.fixture
def cards(client, shop) -> Cards:
    return Cards(client, shop)


async def sell_card(till: Register, card_no: str, amount: int) -> dict[str, Any]:
    cart_id = await till.create()
    line = [{"itemCode": "GIFT", "quantity": 1, "unitPrice": amount, "cardNo": card_no}]
    assert_ok(await till.post(f"/{cart_id}/lineItems", line))
    assert_ok(await till.subtotal(cart_id))
    assert_ok(await till.pay(cart_id, ("01", amount)))
    return assert_ok(await till.bill(cart_id))["data"]


async def card_payment(till: Register, cart_id: str, card_no: str, amount: int):
    """Pay by card (after the subtotal, if the cart is still taking items)."""
    cart = assert_ok(await till.get(cart_id))["data"]
    if cart["cartStatus"] == "EnteringItem":
        assert_ok(await till.subtotal(cart_id))
    body = [{"paymentCode": "21", "amount": amount, "detail": {"cardNo": card_no}}]
    return await till.post(f"/{cart_id}/payments", body)


async def eventually(check: Callable[[], Awaitable[bool]], within: float = 20) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while not await check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("not reached in time")
        await asyncio.sleep(0.1)


async def test_a_card_sold_is_loaded_by_the_bill_without_tax(till: Register, cards: Cards) -> None:
    card_no = await cards.issue()
    cart_id = await till.create()
    line = [{"itemCode": "GIFT", "quantity": 1, "unitPrice": 5000, "cardNo": card_no}]
    cart = assert_ok(await till.post(f"/{cart_id}/lineItems", line))["data"]
    gift = cart["lineItems"][0]
    assert gift["isStoredValue"] is True and gift["cardNo"] == "*" * 12 + card_no[-4:]
    assert cart["taxes"] == [] and cart["totalAmountWithTax"] == 5000.0
    # No discount on money put on a card.
    discount = [{"discountType": "DiscountPercentage", "discountValue": 10}]
    assert_error(await till.post(f"/{cart_id}/lineItems/1/discounts", discount), 400)
    # Nothing is on the card before the bill.
    assert (await cards.read(card_no))["status"] == "inactive"
    assert_ok(await till.subtotal(cart_id))
    assert_ok(await till.pay(cart_id, ("01", 5000)))
    sale = assert_ok(await till.bill(cart_id))["data"]
    assert card_no not in str(sale)  # the answer, its receipt and journal texts: masked only
    assert f"カード {'*' * 12}{card_no[-4:]}" in sale["journalText"]
    card = await cards.until(card_no, lambda c: c["balance"] == 5000)
    assert card["status"] == "active"
    assert await cards.ledger(card_no) == ["activation", "load"]


async def test_a_card_payment_holds_then_the_bill_captures(till: Register, cards: Cards) -> None:
    card_no = await cards.issue()
    await sell_card(till, card_no, 3000)
    await cards.until(card_no, lambda c: c["balance"] == 3000)
    cart_id = await till.create()
    assert_ok(await till.add(cart_id, ("4901", 1)))  # 1000 + 10 % external tax = 1100
    paid = assert_ok(await card_payment(till, cart_id, card_no, 1100))["data"]
    payment = paid["payments"][0]
    assert payment["cardNo"].endswith(card_no[-4:]) and payment["holdId"]
    assert card_no not in str(paid)
    held = await cards.read(card_no)
    assert (held["balance"], held["heldAmount"]) == (1900, 1100)
    billed = assert_ok(await till.bill(cart_id))["data"]
    assert f"カード {'*' * 12}{card_no[-4:]}" in billed["receiptText"]
    assert card_no not in str(billed)
    await cards.until(card_no, lambda c: c["heldAmount"] == 0 and c["balance"] == 1900)
    assert (await cards.ledger(card_no))[-2:] == ["hold", "capture"]


async def test_not_enough_on_the_card_is_refused_with_its_balance(
    till: Register, cards: Cards
) -> None:
    card_no = await cards.issue()
    await sell_card(till, card_no, 500)
    await cards.until(card_no, lambda c: c["balance"] == 500)
    cart_id = await till.create()
    assert_ok(await till.add(cart_id, ("4901", 1)))
    r = await card_payment(till, cart_id, card_no, 1100)
    body = assert_error(r, 400)
    assert body["userError"]["code"] == "416003" and "500" in body["message"]
    cart = assert_ok(await till.get(cart_id))["data"]
    assert cart["payments"] == [] and cart["balanceAmount"] == 1100.0
    # A split tender: the card's 500, the rest in cash.
    assert_ok(await card_payment(till, cart_id, card_no, 500))
    assert_ok(await till.pay(cart_id, ("01", 600)))
    assert_ok(await till.bill(cart_id))
    await cards.until(card_no, lambda c: c["balance"] == 0 and c["heldAmount"] == 0)


async def test_holds_go_back_when_the_payment_or_the_cart_goes(
    till: Register, cards: Cards
) -> None:
    card_no = await cards.issue()
    await sell_card(till, card_no, 4000)
    await cards.until(card_no, lambda c: c["balance"] == 4000)
    # Payments taken back (resume item entry): the hold is released at once.
    cart_id = await till.create()
    assert_ok(await till.add(cart_id, ("4901", 1)))
    assert_ok(await card_payment(till, cart_id, card_no, 1100))
    assert (await cards.read(card_no))["heldAmount"] == 1100
    assert_ok(await till.post(f"/{cart_id}/resume-item-entry"))
    await cards.until(card_no, lambda c: c["heldAmount"] == 0 and c["balance"] == 4000)
    # A cart cancelled with a card payment: its log releases the hold.
    assert_ok(await card_payment(till, cart_id, card_no, 1100))
    assert_ok(await till.post(f"/{cart_id}/cancel"))
    await cards.until(card_no, lambda c: c["heldAmount"] == 0 and c["balance"] == 4000)
    assert (await cards.ledger(card_no)).count("release") == 2


async def test_a_void_unloads_an_untouched_card_and_is_refused_once_used(
    till: Register, cards: Cards, client: httpx.AsyncClient
) -> None:
    untouched, used = await cards.issue(), await cards.issue()
    first = await sell_card(till, untouched, 2000)
    second = await sell_card(till, used, 2000)
    await cards.until(untouched, lambda c: c["balance"] == 2000)
    await cards.until(used, lambda c: c["balance"] == 2000)
    # The second card pays for something: it is no longer as its sale left it.
    cart_id = await till.create()
    assert_ok(await till.add(cart_id, ("4902", 1)))
    assert_ok(await card_payment(till, cart_id, used, 298))
    assert_ok(await till.bill(cart_id))
    refused = await void(till, second["transactionNo"], [("01", 2000)])
    assert assert_error(refused, 409)["userError"]["code"] == "403019"
    assert_ok(await void(till, first["transactionNo"], [("01", 2000)]))
    await cards.until(untouched, lambda c: c["balance"] == 0)
    assert (await cards.ledger(untouched))[-1] == "unload"


async def test_a_return_refunds_onto_new_store_credit(till: Register, cards: Cards) -> None:
    sale = await till.sale(("4902", 2))  # 2 x 298, 8 % internal tax: 596
    url = till.transactions_url(f"/{sale['transactionNo']}/return")
    body = {"payments": [{"paymentCode": "21", "amount": 596}]}
    r = await till.client.post(url, params=till.till.params, headers=till.till.headers, json=body)
    answer = assert_ok(r)["data"]
    (credit,) = answer["issuedCredit"]
    assert credit["isNew"] is True and credit["amount"] == 596.0 and len(credit["cardNo"]) == 16
    # The whole number is shown once: the return's own payment and receipt carry it masked.
    assert answer["payments"][0]["cardNo"].endswith(credit["cardNo"][-4:])
    assert credit["cardNo"] not in str({k: v for k, v in answer.items() if k != "issuedCredit"})
    card = await cards.until(credit["cardNo"], lambda c: c["balance"] == 596)
    assert card["kind"] == "credit" and card["status"] == "active"


async def test_bad_card_lines_and_payments_write_nothing(till: Register, cards: Cards) -> None:
    card_no = await cards.issue()
    cart_id = await till.create()
    before = assert_ok(await till.get(cart_id))["data"]
    bad_lines = [
        {"itemCode": "GIFT", "quantity": 1, "unitPrice": 1000},  # no card
        {"itemCode": "GIFT", "quantity": 2, "unitPrice": 1000, "cardNo": card_no},
        {"itemCode": "GIFT", "quantity": 1, "cardNo": card_no},  # no load
        {"itemCode": "4901", "quantity": 1, "cardNo": card_no},  # not a card item
    ]
    for line in bad_lines:
        r = await till.post(f"/{cart_id}/lineItems", [line])
        assert assert_error(r, 400)["userError"]["code"] == "403018", line
    r = await till.post(
        f"/{cart_id}/lineItems",
        [{"itemCode": "GIFT", "quantity": 1, "unitPrice": 1000, "cardNo": "1234567890123456"}],
    )
    assert r.status_code == 400 and r.json()["userError"]["code"] == "416004"  # check digit
    assert_ok(await till.add(cart_id, ("4901", 1)))
    assert_ok(await till.subtotal(cart_id))
    for detail in (None, "a note", {"cardNo": "12"}):
        body = [{"paymentCode": "21", "amount": 1100, "detail": detail}]
        r = await till.post(f"/{cart_id}/payments", body)
        assert 400 <= r.status_code < 500, (detail, r.text)
    r = await till.post(
        f"/{cart_id}/payments",
        [{"paymentCode": "01", "amount": 1100, "detail": {"cardNo": card_no}}],
    )
    assert r.status_code == 400
    after = assert_ok(await till.get(cart_id))["data"]
    assert after["payments"] == before["payments"] == []
    assert (await cards.read(card_no))["heldAmount"] == 0


async def void(till: Register, number: int, tenders):
    url = till.transactions_url(f"/{number}/void")
    body = [{"paymentCode": c, "amount": a} for c, a in tenders]
    return await till.client.post(
        url, params=till.till.params, headers=till.till.headers, json=body
    )
