"""Offline selling through the real stack (issue 27): numbers reserved at the terminal
service (the cart keeps the counters), offline sales built with the cart's own pricing
uploaded to the cart, checked, recorded exactly once, and seen once by journal, report and
stock; rejections, discrepancies and who may do what."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal as D
from typing import Any

import httpx
import pytest
from pymongo import AsyncMongoClient

from kugelpos.cart.domain.models import Cart, LineItem, Payment
from kugelpos.cart.pricing.engine import PricingContext, recalculate
from kugelpos.common.auth.tokens import TokenCodec
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

SERVICES = ("account", "terminal", "master-data", "cart", "report", "journal", "stock")
# The shop's items (devstack pos): code -> (price, tax code).
ITEMS = {"4901": (1000, "01"), "4902": (298, "12"), "4904": (550, "02"), "4905": (120, "11")}
OPENING_STOCK = 1000
GIFT_LOAD = 5000  # a gift card sold loaded with 5,000
PRICES = {**ITEMS, GIFT_CARD_ITEM.code: (GIFT_LOAD, GIFT_CARD_ITEM.tax_code)}


@pytest.fixture(scope="module")
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=60) as c:
        yield c


@pytest.fixture(scope="module")
async def shop(stack: Stack, client: httpx.AsyncClient) -> Shop:
    # It sells gift cards too: the offline intake must refuse them.
    return await open_shop(
        client,
        {n: stack.url(n) for n in SERVICES},
        terminals=2,
        items=(*DEFAULT_ITEMS, GIFT_CARD_ITEM),
        payments=(*DEFAULT_PAYMENTS, CARD_PAYMENT),
    )


@pytest.fixture(scope="module")
async def other_shop(stack: Stack, client: httpx.AsyncClient) -> Shop:
    return await open_shop(client, {n: stack.url(n) for n in SERVICES}, terminals=1)


@pytest.fixture
def till(client, shop) -> Register:
    return Register(client, shop, shop.tills[0])


@pytest.fixture
def second(client, shop) -> Register:
    return Register(client, shop, shop.tills[1])


def clerk_of(stack: Stack, shop: Shop) -> dict[str, str]:
    token = TokenCodec(stack.secret_key).issue_user_token(
        username="clerk",
        tenant_id=shop.tenant_id,
        is_superuser=False,
        roles=["user"],
        lifetime=timedelta(hours=1),
    )
    return {"Authorization": f"Bearer {token}"}


# ---- building offline sales with the cart's own pricing ----------------------------------------


def priced(
    *entries: tuple[str, int],
    change: int = 0,
    price: dict[str, int] | None = None,
    cancelled: frozenset[int] = frozenset(),
) -> Cart:
    """`cancelled`: the line numbers the clerk cancelled before the sale was paid."""
    lines = tuple(
        LineItem(
            line_no=i,
            item_code=code,
            item_name=code,
            tax_code=PRICES[code][1],
            unit_price=D((price or {}).get(code, PRICES[code][0])),
            quantity=qty,
            is_cancelled=i in cancelled,
        )
        for i, (code, qty) in enumerate(entries, start=1)
    )
    cart = recalculate(Cart(cart_id="offline", line_items=lines), PricingContext())
    total = cart.total_amount_with_tax
    cash = Payment(
        payment_no=1,
        payment_code="01",
        payment_name="Cash",
        payment_amount=total,
        deposit_amount=total + change,
        change_amount=D(change),
    )
    return recalculate(cart.model_copy(update={"payments": (cash,)}), PricingContext())


class Offline:
    """One till's offline side: its numbers, its session, its uploads."""

    def __init__(self, client: httpx.AsyncClient, shop: Shop, register: Register, b) -> None:
        self.client, self.shop, self.register, self.b = client, shop, register, b
        self.till = register.till
        self.terminal = shop.url("terminal", f"/api/v1/terminals/{self.till.terminal_id}")
        self.upload_url = register.transactions_url("/offline")

    async def reserve(self, size: int = 100, headers: dict | None = None) -> httpx.Response:
        return await self.client.post(
            f"{self.terminal}/offline-numbers",
            json={"size": size},
            headers=headers or self.till.headers,
            params=None if headers else self.till.params,
        )

    async def block(self, size: int = 100) -> dict[str, Any]:
        return assert_ok(await self.reserve(size))["data"]

    async def session(self) -> tuple[str, int]:
        r = await self.client.get(self.terminal, headers=self.till.headers, params=self.till.params)
        data = assert_ok(r)["data"]
        return data["businessDate"], data["openCounter"]

    def sale(
        self, cart: Cart, offline_id: str, tno: int, rno: int, session: tuple[str, int]
    ) -> dict[str, Any]:
        return self.b.offline_sale(
            cart,
            offline_id=offline_id,
            transaction_no=tno,
            receipt_no=rno,
            business_date=session[0],
            open_counter=session[1],
            generate_date_time=datetime.now(UTC).isoformat(),
        )

    async def upload(self, sales: list[dict], headers: dict | None = None) -> httpx.Response:
        return await self.client.post(
            self.upload_url,
            json={"transactions": sales},
            headers=headers or self.till.headers,
            params=None if headers else self.till.params,
        )

    async def results(self, sales: list[dict]) -> list[dict[str, Any]]:
        return assert_ok(await self.upload(sales))["data"]

    async def transaction(self, no: int) -> httpx.Response:
        return await self.client.get(
            self.register.transactions_url(f"/{no}"),
            headers=self.till.headers,
            params=self.till.params,
        )


@pytest.fixture
def offline(client, shop, till, b) -> Offline:
    return Offline(client, shop, till, b)


async def eventually(read: Callable[[], Any], done: Callable[[Any], bool], seconds: float = 30):
    deadline = asyncio.get_running_loop().time() + seconds
    while True:
        value = await read()
        if done(value) or asyncio.get_running_loop().time() > deadline:
            return value
        await asyncio.sleep(0.2)


# ---- numbers -----------------------------------------------------------------------------------


async def test_blocks_are_new_each_time_and_never_used_online(offline, till, shop, client):
    first = await offline.block(10)
    assert first["transactionNoTo"] - first["transactionNoFrom"] == 9
    assert first["receiptNoTo"] - first["receiptNoFrom"] == 9
    assert first["blockId"]
    second = await offline.block(5)
    assert second["transactionNoFrom"] == first["transactionNoTo"] + 1
    assert second["blockId"] != first["blockId"]
    # Online selling continues after the blocks.
    sold = await till.sale(("4901", 1))
    assert sold["transactionNo"] > second["transactionNoTo"]
    assert not first["receiptNoFrom"] <= sold["receiptNo"] <= second["receiptNoTo"]
    # The back office may reserve for the till too.
    r = await offline.reserve(3, headers=shop.admin)
    assert assert_ok(r)["data"]["transactionNoFrom"] > sold["transactionNo"]


async def test_concurrent_blocks_and_bills_never_share_a_number(offline, till):
    """Reservations racing each other and online bills: the counters are moved by
    conditional increments, so every block and every bill gets numbers of its own."""
    reserved, sold = await asyncio.gather(
        asyncio.gather(*(offline.reserve(7) for _ in range(4))),
        asyncio.gather(*(till.sale(("4903", 1)) for _ in range(3))),  # not counted below
    )
    blocks = [assert_ok(r)["data"] for r in reserved]
    numbers = [n for b in blocks for n in range(b["transactionNoFrom"], b["transactionNoTo"] + 1)]
    numbers += [s["transactionNo"] for s in sold]
    assert len(numbers) == len(set(numbers)) == 4 * 7 + 3
    receipts = [n for b in blocks for n in range(b["receiptNoFrom"], b["receiptNoTo"] + 1)]
    receipts += [s["receiptNo"] for s in sold]
    assert len(receipts) == len(set(receipts))


@pytest.mark.parametrize("size", [0, -1, 1001])
async def test_a_block_size_outside_1_to_1000_is_a_400(offline, size):
    assert_error(await offline.reserve(size), 400, "406201")


async def terminal_jwt(client: httpx.AsyncClient, shop: Shop, register: Register) -> dict:
    r = await client.post(
        shop.url("terminal", "/api/v1/auth/token"),
        headers=register.till.headers,
        params=register.till.params,
    )
    return {"Authorization": f"Bearer {assert_ok(r)['data']['access_token']}"}


async def test_who_may_reserve_and_list_numbers(stack, offline, shop, other_shop, second, client):
    url = f"{offline.terminal}/offline-numbers"
    refused = {
        "another terminal's JWT": await terminal_jwt(client, shop, second),
        "a clerk": clerk_of(stack, shop),
        "another tenant's admin": other_shop.admin,
    }
    for who, headers in refused.items():
        r = await client.post(url, json={"size": 1}, headers=headers)
        assert r.status_code == 403, (who, r.text)
        r = await client.get(url, headers=headers)
        assert r.status_code == 403, (who, r.text)
    # Another terminal's API key does not open this terminal's path at all.
    r = await client.post(url, json={"size": 1}, headers=second.till.headers)
    assert_error(r, 401)
    # Its own JWT may.
    own = await terminal_jwt(client, shop, offline.register)
    assert_ok(await client.post(url, json={"size": 1}, headers=own))
    assert_ok(await client.get(url, headers=own))


# ---- intake ------------------------------------------------------------------------------------


async def test_consistent_sales_are_taken_once_and_seen_once_downstream(
    stack, offline, shop, client
):
    admin = shop.admin
    stock = shop.url("stock", f"/api/v1/tenants/{shop.tenant_id}/stores/{shop.store_code}/stock")
    for code in ITEMS:
        r = await client.put(
            f"{stock}/{code}/update",
            json={"quantityChange": OPENING_STOCK, "updateType": "initial"},
            headers=admin,
        )
        assert_ok(r)
    session = await offline.session()
    block = await offline.block(20)
    t0, r0 = block["transactionNoFrom"], block["receiptNoFrom"]
    carts = [
        priced(("4901", 2), ("4902", 1), change=200),
        priced(("4904", 3)),
        priced(("4905", 4), ("4901", 1), change=1),
    ]
    sales = [offline.sale(cart, f"ok-{i}", t0 + i, r0 + i, session) for i, cart in enumerate(carts)]
    results = await offline.results(sales)
    assert [(r["offlineId"], r["status"], r["transactionNo"]) for r in results] == [
        (f"ok-{i}", "accepted", t0 + i) for i in range(3)
    ]
    assert all(r.get("reason") is None for r in results)
    for i, cart in enumerate(carts):
        tran = assert_ok(await offline.transaction(t0 + i))["data"]
        assert tran["offline"] is True
        assert tran["receiptNo"] == r0 + i
        assert tran["totalAmountWithTax"] == float(cart.total_amount_with_tax)
        assert tran["changeAmount"] == float(cart.change_amount)
        assert tran["receiptText"]  # rendered as for any sale
        assert tran["businessDate"] == session[0]
    # Stored with the session's business counter (the terminal service's answer).
    r = await client.get(
        f"{offline.terminal}/sessions", headers=admin, params={"businessDate": session[0]}
    )
    (opened,) = [x for x in assert_ok(r)["data"] if x["openCounter"] == session[1]]
    mongo = AsyncMongoClient(stack.mongo_uri_for("cart"), tz_aware=True)
    try:
        stored = await mongo[stack.db_name("cart", shop.tenant_id)]["log_tran"].find_one(
            {"terminal_id": offline.till.terminal_id, "transaction_no": t0}
        )
    finally:
        await mongo.close()
    assert stored["offline"] is True and stored["source_id"].endswith(":ok-0")
    assert stored["business_counter"] == opened["businessCounter"] >= 1
    # Delivered twice: nothing written again, the first answers repeated.
    again = await offline.results(sales)
    assert [(r["offlineId"], r["status"], r["transactionNo"]) for r in again] == [
        (f"ok-{i}", "duplicate", t0 + i) for i in range(3)
    ]
    # The blocks: three numbers used, the rest gaps.
    r = await client.get(
        f"{offline.terminal}/offline-numbers",
        headers=offline.till.headers,
        params=offline.till.params,
    )
    mine = next(b for b in assert_ok(r)["data"] if b["blockId"] == block["blockId"])
    assert (mine["usedCount"], mine["unusedCount"]) == (3, 17)
    assert mine["unused"] == [
        {"transactionNoFrom": t0 + 3, "transactionNoTo": block["transactionNoTo"]}
    ]

    # Journal, report and stock take each sale exactly once.
    numbers = {t0, t0 + 1, t0 + 2}
    journals = shop.url("journal", f"/api/v1/tenants/{shop.tenant_id}/stores/{shop.store_code}")

    async def journal() -> list[dict]:
        r = await client.get(
            f"{journals}/journals",
            headers=admin,
            params={"limit": 1000, "terminals": offline.till.terminal_no},
        )
        return [
            e
            for e in assert_ok(r)["data"]
            if e["terminalNo"] == offline.till.terminal_no and e["transactionNo"] in numbers
        ]

    entries = await eventually(journal, lambda e: len(e) >= 3)
    assert sorted(e["transactionNo"] for e in entries) == sorted(numbers)

    sold = {"4901": 3, "4902": 1, "4904": 3, "4905": 4}

    async def quantities() -> dict[str, float]:
        rows = {}
        for code in sold:
            r = await client.get(f"{stock}/{code}", headers=admin)
            rows[code] = assert_ok(r)["data"]["currentQuantity"]
        return rows

    expected_stock = {code: OPENING_STOCK - qty for code, qty in sold.items()}
    # The online sale of the first test took one 4901.
    expected_stock["4901"] -= 1
    assert await eventually(quantities, lambda q: q == expected_stock) == expected_stock

    reports = shop.url(
        "report",
        f"/api/v1/tenants/{shop.tenant_id}/stores/{shop.store_code}"
        f"/terminals/{offline.till.terminal_no}/reports",
    )
    offline_total = sum(float(c.total_amount_with_tax) for c in carts)

    async def flash() -> dict:
        r = await client.get(
            reports,
            headers=admin,
            params={"report_scope": "flash", "report_type": "sales", "business_date": session[0]},
        )
        return assert_ok(r)["data"]

    # Gross sales (with tax, before discounts: these sales have none): the till's online
    # sales and the three offline ones, each once.
    online_count, online = await till_online_sales(offline)
    want = (online_count + 3, online + offline_total)

    def gross(f: dict) -> tuple[int, float]:
        return f["salesGross"]["count"], f["salesGross"]["amount"]

    figures = await eventually(flash, lambda f: gross(f)[0] >= want[0])
    assert gross(figures) == want
    # Still once after the resend had its time to be published (it was not).
    await asyncio.sleep(1)
    assert gross(await flash()) == want
    assert len(await journal()) == 3
    assert await quantities() == expected_stock


async def test_a_cancelled_line_and_a_zero_price_pass_every_consumer(offline, shop, client):
    """An offline sale with a line the clerk cancelled and an item given away at 0 is taken
    like any sale: the journal holds it, the report counts it once, stock moves for the
    zero-priced item and not for the cancelled one."""
    admin = shop.admin
    base = f"/api/v1/tenants/{shop.tenant_id}/stores/{shop.store_code}"
    stock = shop.url("stock", f"{base}/stock")

    async def quantities() -> dict[str, float]:
        rows = {}
        for code in ("4902", "4904", "4905"):
            r = await client.get(f"{stock}/{code}", headers=admin)
            rows[code] = assert_ok(r)["data"]["currentQuantity"] if r.status_code == 200 else 0
        return rows

    reports = shop.url("report", f"{base}/terminals/{offline.till.terminal_no}/reports")
    session = await offline.session()

    async def gross() -> tuple[int, float]:
        r = await client.get(
            reports,
            headers=admin,
            params={"report_scope": "flash", "report_type": "sales", "business_date": session[0]},
        )
        f = assert_ok(r)["data"]
        return f["salesGross"]["count"], f["salesGross"]["amount"]

    before_stock, before_gross = await quantities(), await gross()
    block = await offline.block(1)
    cart = priced(
        ("4902", 1), ("4904", 2), ("4905", 3), price={"4905": 0}, cancelled=frozenset({2})
    )
    assert cart.line_items[1].is_cancelled and cart.line_items[2].amount == 0
    sale = offline.sale(
        cart, "cancel-zero", block["transactionNoFrom"], block["receiptNoFrom"], session
    )
    assert [r["status"] for r in await offline.results([sale])] == ["accepted"]

    want_stock = {
        "4902": before_stock["4902"] - 1,
        "4904": before_stock["4904"],  # cancelled: nothing moves
        "4905": before_stock["4905"] - 3,  # given away: it left the shelf
    }
    assert await eventually(quantities, lambda q: q == want_stock) == want_stock
    want_gross = (before_gross[0] + 1, before_gross[1] + float(cart.total_amount_with_tax))
    assert await eventually(gross, lambda g: g[0] >= want_gross[0]) == want_gross

    async def entries() -> list[dict]:
        r = await client.get(
            shop.url("journal", f"{base}/journals"),
            headers=admin,
            params={"limit": 1000, "terminals": offline.till.terminal_no},
        )
        return [
            e
            for e in assert_ok(r)["data"]
            if e["terminalNo"] == offline.till.terminal_no
            and e["transactionNo"] == block["transactionNoFrom"]
        ]

    assert len(await eventually(entries, lambda e: len(e) >= 1)) == 1


async def till_online_sales(offline: Offline) -> tuple[int, float]:
    """Count and total with tax of the till's online sales (not offline, not cancelled)."""
    r = await offline.client.get(
        offline.register.transactions_url(),
        headers=offline.till.headers,
        params={**offline.till.params, "limit": 1000},
    )
    online = [
        t["totalAmountWithTax"]
        for t in assert_ok(r)["data"]
        if not t["offline"] and t["transactionType"] == 101
    ]
    return len(online), sum(online)


async def test_inconsistent_or_misnumbered_sales_are_rejected_with_reasons(
    offline, second, shop, client, b
):
    session = await offline.session()
    block = await offline.block(10)
    # Counters are per terminal: the other till's block is taken beyond every number this
    # till has reserved, so it is another terminal's and nothing of this one's.
    other = Offline(client, shop, second, b)
    await other.block(1000)
    other_block = await other.block(5)
    assert other_block["transactionNoFrom"] > block["transactionNoTo"]
    t0, r0 = block["transactionNoFrom"], block["receiptNoFrom"]
    good = offline.sale(priced(("4901", 1)), "r-good", t0, r0, session)
    tampered = offline.sale(priced(("4902", 2)), "r-tampered", t0 + 1, r0 + 1, session)
    tampered["totalAmountWithTax"] += 1
    tampered["totalAmount"] += 1
    foreign = offline.sale(
        priced(("4901", 1)),
        "r-foreign",
        other_block["transactionNoFrom"],
        other_block["receiptNoFrom"],
        session,
    )
    outside = offline.sale(
        priced(("4901", 1)), "r-outside", block["transactionNoTo"] + 1000, r0, session
    )
    split = offline.sale(priced(("4901", 1)), "r-split", t0 + 2, block["receiptNoTo"] + 1, session)
    used = offline.sale(priced(("4904", 1)), "r-used", t0, r0 + 3, session)  # good's number
    used_receipt = offline.sale(priced(("4904", 1)), "r-used-receipt", t0 + 4, r0, session)
    unknown = offline.sale(priced(("4901", 1)), "r-session", t0 + 5, r0 + 5, ("19990101", 1))
    malformed = {"offlineId": "r-malformed", "transactionNo": "seven"}
    results = await offline.results(
        [good, tampered, foreign, outside, split, used, used_receipt, unknown, malformed]
    )
    got = {r["offlineId"]: (r["status"], (r.get("reason") or {}).get("code")) for r in results}
    assert got == {
        "r-good": ("accepted", None),
        "r-tampered": ("rejected", "401104"),
        "r-foreign": ("rejected", "401106"),
        "r-outside": ("rejected", "401106"),
        "r-split": ("rejected", "401106"),
        "r-used": ("rejected", "401107"),
        "r-used-receipt": ("rejected", "401107"),
        "r-session": ("rejected", "401108"),
        "r-malformed": ("rejected", "401109"),
    }
    assert all(r["reason"]["message"] for r in results if r["status"] == "rejected")
    # Nothing written for a rejected sale.
    for no in (t0 + 1, t0 + 2, t0 + 4, t0 + 5):
        assert_error(await offline.transaction(no), 404)
    assert assert_ok(await offline.transaction(t0))["data"]["totalAmountWithTax"] == 1100
    # A corrected resend of a rejected sale is taken.
    fixed = offline.sale(priced(("4902", 2)), "r-tampered", t0 + 1, r0 + 1, session)
    assert (await offline.results([fixed]))[0]["status"] == "accepted"
    # Sent again unchanged, a refused sale is refused again.
    assert (await offline.results([unknown]))[0]["status"] == "rejected"
    # The manager sees the sales still refused, each once with its latest reason and how often
    # it was sent; the corrected one is off the list.
    r = await client.get(f"{offline.upload_url}/rejections", headers=shop.admin)
    rows = assert_ok(r)["data"]
    listed = {(x["offlineId"], x["reason"]["code"]) for x in rows}
    assert {("r-session", "401108"), ("r-malformed", "401109"), ("r-used", "401107")} <= listed
    assert "r-tampered" not in {x["offlineId"] for x in rows}
    session_rows = [x for x in rows if x["offlineId"] == "r-session"]
    assert len(session_rows) == 1 and session_rows[0]["attempts"] == 2


async def test_gift_cards_are_refused_offline(offline, client, shop):
    """Paying with a card places a hold on its balance and selling one loads it; neither can be
    done offline, so such a sale is rejected with 401113 and nothing is written for it (else
    the card would be spent with no hold behind it, or sold and never loaded)."""
    session = await offline.session()
    block = await offline.block(5)
    t0, r0 = block["transactionNoFrom"], block["receiptNoFrom"]
    paid_by_card = offline.sale(priced(("4901", 1)), "card-pay", t0, r0, session)
    paid_by_card["payments"][0].update(paymentCode=CARD_PAYMENT["paymentCode"])
    # The master data says GIFT loads a card, whatever the till says of the line.
    card_sold = offline.sale(priced(("4902", 1), ("GIFT", 1)), "card-sold", t0 + 1, r0 + 1, session)
    assert not any(line["isStoredValue"] for line in card_sold["lineItems"])
    # And a line the till itself marks as a card load is refused too.
    marked = offline.sale(priced(("4905", 1)), "card-marked", t0 + 2, r0 + 2, session)
    marked["lineItems"][0]["isStoredValue"] = True
    plain = offline.sale(priced(("4905", 2)), "card-none", t0 + 3, r0 + 3, session)
    results = await offline.results([paid_by_card, card_sold, marked, plain])
    got = {r["offlineId"]: (r["status"], (r.get("reason") or {}).get("code")) for r in results}
    assert got == {
        "card-pay": ("rejected", "401113"),
        "card-sold": ("rejected", "401113"),
        "card-marked": ("rejected", "401113"),
        "card-none": ("accepted", None),
    }
    for no in (t0, t0 + 1, t0 + 2):
        assert_error(await offline.transaction(no), 404)
    r = await client.get(f"{offline.upload_url}/rejections", headers=shop.admin)
    listed = {x["offlineId"]: x["reason"]["code"] for x in assert_ok(r)["data"]}
    assert {k: listed.get(k) for k in ("card-pay", "card-sold", "card-marked")} == dict.fromkeys(
        ("card-pay", "card-sold", "card-marked"), "401113"
    )


async def test_over_500_is_a_400_and_writes_nothing(offline, client, shop):
    session = await offline.session()
    block = await offline.block(1000)
    t0, r0 = block["transactionNoFrom"], block["receiptNoFrom"]
    cart = priced(("4905", 1))
    sales = [offline.sale(cart, f"big-{i}", t0 + i, r0 + i, session) for i in range(501)]
    assert_error(await offline.upload(sales), 400, "401110")
    assert_error(await offline.transaction(t0), 404)
    assert_error(await offline.upload({"not": "a list"}), 422)  # type: ignore[arg-type]


async def test_a_price_that_changed_is_taken_and_listed_as_a_discrepancy(
    stack, offline, shop, other_shop, client
):
    session = await offline.session()
    block = await offline.block(2)
    cart = priced(("4901", 1), ("4902", 1), price={"4901": 900})
    sale = offline.sale(cart, "disc-1", block["transactionNoFrom"], block["receiptNoFrom"], session)
    assert (await offline.results([sale]))[0]["status"] == "accepted"
    url = f"{offline.upload_url}/discrepancies"
    r = await client.get(url, headers=shop.admin)
    found = [d for d in assert_ok(r)["data"] if d["offlineId"] == "disc-1"]
    assert [(d["itemCode"], d["soldPrice"], d["masterPrice"]) for d in found] == [
        ("4901", 900, 1000)
    ]
    assert found[0]["transactionNo"] == block["transactionNoFrom"]
    assert found[0]["at"] == sale["generateDateTime"]
    for headers in (offline.till.headers, clerk_of(stack, shop), other_shop.admin):
        for path in (url, f"{offline.upload_url}/rejections"):
            r = await client.get(path, headers=headers, params=offline.till.params)
            assert_error(r, 403)


async def test_only_the_till_itself_uploads(stack, offline, second, shop, other_shop, client):
    session = await offline.session()
    block = await offline.block(1)
    sale = offline.sale(
        priced(("4901", 1)), "who-1", block["transactionNoFrom"], block["receiptNoFrom"], session
    )
    url = offline.upload_url
    for headers, params in (
        (second.till.headers, second.till.params),
        (clerk_of(stack, shop), None),
        (shop.admin, None),
        (other_shop.admin, None),
        (other_shop.tills[0].headers, other_shop.tills[0].params),
    ):
        r = await client.post(url, json={"transactions": [sale]}, headers=headers, params=params)
        assert_error(r, 403)
    assert_error(await offline.transaction(block["transactionNoFrom"]), 404)


async def test_the_terminal_lists_its_sessions_of_a_day(offline, client, shop):
    date, counter = await offline.session()
    url = f"{offline.terminal}/sessions"
    r = await client.get(
        url, headers=offline.till.headers, params={**offline.till.params, "businessDate": date}
    )
    sessions = assert_ok(r)["data"]
    mine = [s for s in sessions if s["openCounter"] == counter]
    assert len(mine) == 1 and mine[0]["businessDate"] == date
    assert mine[0]["openedAt"] and mine[0]["closedAt"] is None
    r = await client.get(url, headers=shop.admin, params={"businessDate": "19990101"})
    assert assert_ok(r)["data"] == []
    r = await client.get(url, headers=shop.admin, params={"businessDate": "1999-01-01"})
    assert_error(r, 422)


async def test_a_block_that_would_wrap_the_receipt_range_starts_at_its_start(stack, client, b):
    """Receipts 1..10: a block whose receipts would run past 10 takes 1.. instead (the ones
    it skipped are not handed out in this cycle); a block larger than the range is refused."""
    settings = [
        {"name": "RECEIPT_NO_START_VALUE", "defaultValue": "1", "values": []},
        {"name": "RECEIPT_NO_END_VALUE", "defaultValue": "10", "values": []},
    ]
    small = await open_shop(client, {n: stack.url(n) for n in SERVICES}, settings=settings)
    register = Register(client, small, small.tills[0])
    offline = Offline(client, small, register, b)
    assert (await register.sale(("4901", 1)))["receiptNo"] == 1
    first = await offline.block(6)
    assert (first["receiptNoFrom"], first["receiptNoTo"]) == (2, 7)
    wrapped = await offline.block(5)  # 8..12 would wrap: 1..5, 8..10 skipped
    assert (wrapped["receiptNoFrom"], wrapped["receiptNoTo"]) == (1, 5)
    assert wrapped["transactionNoFrom"] == first["transactionNoTo"] + 1
    assert (await register.sale(("4901", 1)))["receiptNo"] == 6  # after the block
    assert_error(await offline.reserve(11), 400, "406201")
    session = await offline.session()
    sale = offline.sale(priced(("4901", 1)), "wrap-1", wrapped["transactionNoFrom"], 1, session)
    assert (await offline.results([sale]))[0]["status"] == "accepted"
