"""Sales through HTTP against the embedded stack (account → terminal → master-data → cart):
mixed taxes, split tender, line and cart discounts, promotions, cancel, the tranlog, its
published event and its delivery status."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import httpx
import pytest
import redis.asyncio as aioredis

from kugelpos.common.auth.tokens import TokenCodec
from kugelpos.devstack.pos import Register, Shop, open_shop
from kugelpos.devstack.stack import Stack
from kugelpos.testkit.testing import assert_error, assert_ok

TOPIC = "tranlog_report"


@pytest.fixture(scope="module")
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=30) as c:
        yield c


async def new_shop(stack: Stack, client: httpx.AsyncClient, **options) -> Shop:
    urls = {name: stack.url(name) for name in ("account", "terminal", "master-data", "cart")}
    return await open_shop(client, urls, **options)


CATEGORY_PROMO = {
    "promotionCode": "P10",
    "promotionType": "category_discount",
    "name": "Rice 10% off",
    "startDatetime": "2000-01-01T00:00:00",
    "endDatetime": "2099-12-31T23:59:59",
    "isActive": True,
    "detail": {"targetCategoryCodes": ["002"], "discountRate": 10},
}


@pytest.fixture(scope="module")
async def shop(stack: Stack, client: httpx.AsyncClient) -> Shop:
    return await new_shop(stack, client)


@pytest.fixture
def till(client, shop) -> Register:
    return Register(client, shop, shop.tills[0])


async def published(redis_url: str, event_id: str) -> list[dict]:
    redis = aioredis.from_url(redis_url)
    try:
        found = []
        for _, fields in await redis.xrange(TOPIC):
            data = json.loads(fields[b"data"]).get("data") or {}
            if data.get("event_id") == event_id:
                found.append(data)
        return found
    finally:
        await redis.aclose()


async def wait_published(redis_url: str, event_id: str, seconds: float = 20) -> list[dict]:
    deadline = asyncio.get_running_loop().time() + seconds
    while asyncio.get_running_loop().time() < deadline:
        if found := await published(redis_url, event_id):
            return found
        await asyncio.sleep(0.1)
    raise AssertionError(f"event {event_id} not published")


async def test_full_sale_mixed_taxes_and_split_tender(stack, client, shop, till):
    # Spec example 1 (mixed taxes), then example 5's split tender: cashless + cash with change.
    cart_id = await till.create()
    r = await till.add(cart_id, ("4901", 2), ("4902", 1), ("4903", 1))
    cart = assert_ok(r)["data"]
    assert cart["cartStatus"] == "EnteringItem"
    assert [line["amount"] for line in cart["lineItems"]] == [2000.0, 298.0, 150.0]
    taxes = {t["taxCode"]: t for t in cart["taxes"]}
    assert taxes["01"]["taxAmount"] == 200.0 and taxes["01"]["taxType"] == "External"
    assert taxes["12"]["taxAmount"] == 22.0 and taxes["12"]["taxType"] == "Internal"
    assert taxes["00"]["taxAmount"] == 0.0 and taxes["00"]["taxType"] == "Exempt"
    assert cart["totalAmount"] == 2448.0 and cart["totalAmountWithTax"] == 2648.0
    assert cart["totalQuantity"] == 4 and cart["balanceAmount"] == 2648.0

    cart = assert_ok(await till.subtotal(cart_id))["data"]
    assert cart["cartStatus"] == "Paying"
    cart = assert_ok(await till.pay(cart_id, ("11", 1000)))["data"]
    assert cart["balanceAmount"] == 1648.0
    cart = assert_ok(await till.pay(cart_id, ("01", 2000)))["data"]
    assert cart["balanceAmount"] == 0.0
    assert cart["changeAmount"] == 352.0 and cart["depositAmount"] == 3000.0
    assert [(p["paymentCode"], p["paymentAmount"]) for p in cart["payments"]] == [
        ("11", 1000.0),
        ("01", 1648.0),
    ]

    billed = assert_ok(await till.bill(cart_id))["data"]
    assert billed["cartStatus"] == "Completed"
    assert billed["transactionNo"] >= 1 and billed["receiptNo"] >= 111111
    assert "<PrintData>" in billed["receiptText"]
    journal = billed["journalText"].splitlines()
    assert all(len(line) <= 32 for line in journal)  # ASCII-width sanity; wide chars count 2
    assert any(line.startswith("合計") and line.rstrip().endswith("\\2,648") for line in journal)
    assert any(line.startswith("お釣り") and "\\352" in line for line in journal)

    # The transaction log, read back through the API.
    r = await client.get(
        till.transactions_url(f"/{billed['transactionNo']}"),
        params=till.till.params,
        headers=till.till.headers,
    )
    tran = assert_ok(r)["data"]
    assert tran["totalAmountWithTax"] == 2648.0 and tran["changeAmount"] == 352.0
    assert tran["receiptNo"] == billed["receiptNo"]
    assert tran["status"] == {"isCancelled": False, "isVoided": False, "isRefunded": False}
    assert len(tran["payments"]) == 2 and tran["depositAmount"] == 3000.0

    # Published once on tranlog_report, in the shape consumers expect.
    mongo_event = await _outbox_record(stack, shop.tenant_id, billed["transactionNo"], till)
    events = await wait_published(stack.redis_url, mongo_event["event_id"])
    event = events[0]
    assert event["transaction_type"] == 101 and event["tenant_id"] == shop.tenant_id
    assert event["sales"]["total_amount_with_tax"] == 2648.0
    assert event["sales"]["tax_amount"] == 200.0 and event["sales"]["change_amount"] == 352.0
    assert [p["payment_code"] for p in event["payments"]] == ["11", "01"]
    assert event["line_items"][0]["description"] == "Green Tea 500ml"
    assert event["staff"]["id"] == "S001" and event["journal_text"] == billed["journalText"]


async def _outbox_record(stack, tenant_id, transaction_no, till):
    from pymongo import AsyncMongoClient

    mongo = AsyncMongoClient(stack.mongo_uri_for("cart"), tz_aware=True)
    try:
        return await mongo[stack.db_name("cart", "commons")]["outbox"].find_one(
            {
                "tenant_id": tenant_id,
                "keys.terminal_id": till.till.terminal_id,
                "keys.transaction_no": transaction_no,
            },
            {"_id": False},
        )
    finally:
        await mongo.close()


async def test_delivery_status_endpoint_and_acks_update_the_event(stack, client, shop, till):
    billed = await till.sale(("4905", 1))
    record = await _outbox_record(stack, shop.tenant_id, billed["transactionNo"], till)
    assert [c["service_name"] for c in record["consumers"]] == ["report", "journal", "stock"]
    # The bill publishes at once and the real consumers may have acknowledged before this read:
    # the overall status must agree with however many have.
    received = sum(c["status"] == "received" for c in record["consumers"])
    by_count = {0: {"pending", "published"}, 3: {"delivered"}}
    assert record["status"] in by_count.get(received, {"partially_delivered"})
    url = till.transactions_url(f"/{billed['transactionNo']}/delivery-status")
    body = {"event_id": record["event_id"], "service": "report", "status": "received"}
    # No credential, or a terminal's key: refused.
    assert_error(await client.post(url, json=body), 401)
    assert_error(await client.post(url, json=body, headers=till.till.headers), 401)
    codec = TokenCodec(stack.secret_key)
    service = {
        "Authorization": "Bearer "
        + codec.issue_service_token(service="report", tenant_id=shop.tenant_id)
    }
    data = assert_ok(await client.post(url, json=body, headers=service))["data"]
    # The session stack runs the real journal and stock, which acknowledge on their own:
    # whether both have yet decides between partially and fully delivered.
    assert data["success"] is True
    assert data["overall_status"] in {"partially_delivered", "delivered"}
    # The second way in: acknowledgements published on tranlog_status.
    for name in ("journal", "stock"):
        ack = {"event_id": record["event_id"], "service": name, "status": "received"}
        r = await client.post(
            f"{stack.sidecar_url}/v1.0/publish/pubsub/tranlog_status",
            json=ack,
            headers=stack.dapr_headers(name),
        )
        assert r.status_code == 204
    deadline = asyncio.get_running_loop().time() + 20
    while asyncio.get_running_loop().time() < deadline:
        record = await _outbox_record(stack, shop.tenant_id, billed["transactionNo"], till)
        if record["status"] == "delivered":
            break
        await asyncio.sleep(0.1)
    assert record["status"] == "delivered"
    # Another tenant's service token cannot acknowledge this tenant's events.
    other = {
        "Authorization": "Bearer " + codec.issue_service_token(service="report", tenant_id="ZZ1")
    }
    assert_error(await client.post(url, json=body, headers=other), 403)
    unknown = body | {"event_id": "no-such-event"}
    assert_error(await client.post(url, json=unknown, headers=service), 404)


async def test_line_operations_and_discounts(till):
    cart_id = await till.create()
    assert_ok(await till.add(cart_id, ("4901", 1), ("4904", 2), ("4905", 3)))
    # Quantity, unit price (original kept), line discounts (spec §5.2 per-unit rounding).
    cart = assert_ok(await till.patch(f"/{cart_id}/lineItems/3/quantity", {"quantity": 2}))["data"]
    assert cart["lineItems"][2]["quantity"] == 2
    cart = assert_ok(await till.patch(f"/{cart_id}/lineItems/1/unitPrice", {"unitPrice": 125}))[
        "data"
    ]
    line = cart["lineItems"][0]
    assert line["unitPrice"] == 125.0 and line["isUnitPriceChanged"] is True
    assert line["unitPriceOriginal"] == 1000.0
    assert_ok(await till.patch(f"/{cart_id}/lineItems/1/quantity", {"quantity": 2}))
    r = await till.post(
        f"/{cart_id}/lineItems/1/discounts",
        [{"discountType": "DiscountPercentage", "discountValue": 10, "discountDetail": "staff"}],
    )
    line = assert_ok(r)["data"]["lineItems"][0]
    assert line["discounts"][0]["discountAmount"] == 26.0 and line["amount"] == 224.0
    # Cancel a line: it stays, numbers never shift, totals drop it.
    cart = assert_ok(await till.post(f"/{cart_id}/lineItems/3/cancel"))["data"]
    assert cart["lineItems"][2]["isCancelled"] is True and len(cart["lineItems"]) == 3
    assert cart["totalQuantity"] == 4
    # Subtotal discount 10 % over 224 + 1100 = 1324 → 132 (rounded), allocated.
    assert_ok(await till.subtotal(cart_id))
    r = await till.post(
        f"/{cart_id}/discounts", [{"discountType": "DiscountPercentage", "discountValue": 10}]
    )
    cart = assert_ok(r)["data"]
    assert cart["subtotalDiscounts"][0]["discountAmount"] == 132.0
    assert cart["totalAmount"] == 1324.0 - 132.0
    # Resume item entry clears the payments; the cart goes back to EnteringItem.
    assert_ok(await till.pay(cart_id, ("11", 100)))
    cart = assert_ok(await till.post(f"/{cart_id}/resume-item-entry"))["data"]
    assert cart["cartStatus"] == "EnteringItem" and cart["payments"] == []


async def test_discount_restricted_line_is_refused_and_skipped(till):
    cart_id = await till.create()
    assert_ok(await till.add(cart_id, ("4906", 1), ("4901", 1)))
    r = await till.post(
        f"/{cart_id}/lineItems/1/discounts",
        [{"discountType": "DiscountAmount", "discountValue": 10}],
    )
    assert_error(r, 400, "402005")
    assert_ok(await till.subtotal(cart_id))
    r = await till.post(
        f"/{cart_id}/discounts", [{"discountType": "DiscountAmount", "discountValue": 100}]
    )
    cart = assert_ok(r)["data"]
    assert cart["totalAmount"] == 3000.0 + 1000.0 - 100.0


async def test_category_promotion_is_applied(stack, client):
    shop = await new_shop(stack, client, promotions=[CATEGORY_PROMO])
    till = Register(client, shop, shop.tills[0])
    cart_id = await till.create()
    cart = assert_ok(await till.add(cart_id, ("4904", 2), ("4901", 1)))["data"]
    promo = cart["lineItems"][0]["discounts"]
    assert promo and promo[0]["promotionCode"] == "P10"
    assert promo[0]["promotionType"] == "category_discount" and promo[0]["discountAmount"] == 110.0
    assert cart["lineItems"][1]["discounts"] == []


async def test_cancel_records_a_cancelled_transaction(client, till):
    cart_id = await till.create()
    assert_ok(await till.add(cart_id, ("4901", 1)))
    cart = assert_ok(await till.post(f"/{cart_id}/cancel"))["data"]
    assert cart["cartStatus"] == "Cancelled" and cart["transactionNo"] > 0
    assert "取 引 中 止" in cart["journalText"]
    r = await client.get(
        till.transactions_url(f"/{cart['transactionNo']}"),
        params=till.till.params,
        headers=till.till.headers,
    )
    assert assert_ok(r)["data"]["status"]["isCancelled"] is True
    # Listed only with include_cancelled.
    listed = await client.get(
        till.transactions_url(), params=till.till.params, headers=till.till.headers
    )
    numbers = [t["transactionNo"] for t in assert_ok(listed)["data"]]
    assert cart["transactionNo"] not in numbers
    listed = await client.get(
        till.transactions_url(),
        params=till.till.params | {"include_cancelled": "true"},
        headers=till.till.headers,
    )
    numbers = [t["transactionNo"] for t in assert_ok(listed)["data"]]
    assert cart["transactionNo"] in numbers


async def test_transaction_list_pagination_and_filters(stack, client):
    shop = await new_shop(stack, client)
    till = Register(client, shop, shop.tills[0])
    sales = [await till.sale(("4905", n)) for n in (1, 2, 3)]
    r = await client.get(
        till.transactions_url(),
        params=till.till.params | {"limit": 2, "page": 1},
        headers=till.till.headers,
    )
    body = assert_ok(r)
    assert [t["transactionNo"] for t in body["data"]] == [3, 2]
    assert body["metadata"]["total"] == 3 and body["metadata"]["limit"] == 2
    r = await client.get(
        till.transactions_url(),
        params=till.till.params | {"receipt_no": sales[0]["receiptNo"], "sort": "transaction_no:1"},
        headers=till.till.headers,
    )
    assert [t["transactionNo"] for t in assert_ok(r)["data"]] == [1]
    r = await client.get(
        till.transactions_url(),
        params=till.till.params | {"sort": "nope:1"},
        headers=till.till.headers,
    )
    assert_error(r, 400)
