"""Blind returns through HTTP (issue 25): a return without a receipt, priced at the item's
current price (or a lower one given) and taxed as a sale, always approved by a manager, at
most the tenant's BLIND_RETURN_LIMIT; its quote writes nothing; only the till itself."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from kugelpos.cart.transactions.documents import TranlogDocument
from kugelpos.devstack.pos import Register, Shop, Till, add_till, open_shop, open_till
from kugelpos.devstack.stack import Stack
from kugelpos.testkit.testing import assert_error, assert_ok

MANAGER = {"staffId": "M01", "pin": "9876"}
LIMIT = 5000


@pytest.fixture(scope="module")
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=30) as c:
        yield c


@pytest.fixture(scope="module")
async def shop(stack: Stack, client: httpx.AsyncClient) -> Shop:
    urls = {name: stack.url(name) for name in ("account", "terminal", "master-data", "cart")}
    limit = {"name": "BLIND_RETURN_LIMIT", "defaultValue": str(LIMIT), "values": []}
    shop = await open_shop(client, urls, terminals=2, settings=[limit])
    md = shop.url("master-data", f"/api/v1/tenants/{shop.tenant_id}")
    body = {"id": "M01", "name": "Manager", "pin": "9876", "roles": ["manager"]}
    assert_ok(await client.post(f"{md}/staff", headers=shop.admin, json=body), 201)
    reason = {"reasonCode": "GIFT", "description": "Gift", "restock": True}
    assert_ok(await client.post(f"{md}/return-reasons", headers=shop.admin, json=reason), 201)
    return shop


@pytest.fixture
def till(client, shop) -> Register:
    return Register(client, shop, shop.tills[0])


def url(till: Register, path: str = "", terminal_no: int | None = None) -> str:
    no = till.till.terminal_no if terminal_no is None else terminal_no
    return till.shop.url(
        "cart",
        f"/api/v1/tenants/{till.shop.tenant_id}/stores/{till.shop.store_code}"
        f"/terminals/{no}/returns{path}",
    )


async def post(till: Register, path: str, body: Any, terminal_no: int | None = None):
    return await till.client.post(
        url(till, path, terminal_no), params=till.till.params, headers=till.till.headers, json=body
    )


async def count(till: Register) -> int:
    r = await till.client.get(
        till.transactions_url(), params=till.till.params | {"limit": 0}, headers=till.till.headers
    )
    return assert_ok(r)["metadata"]["total"]


def body(*lines: dict[str, Any], pay: int | None = None, **extra: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"lines": list(lines), **extra}
    if pay is not None:
        out["payments"] = [{"paymentCode": "01", "amount": pay}]
    return out


TEA2 = {"itemCode": "4901", "quantity": 2}  # 1000, 01 external 10 %
SANDWICH = {"itemCode": "4904", "quantity": 1}  # 550, 02 internal 10 %


async def test_a_blind_return_at_the_current_price_taxed_as_a_sale(till):
    before = await count(till)
    q = assert_ok(await post(till, "/quote", body(TEA2, SANDWICH)))["data"]
    assert [(x["itemCode"], x["quantity"], x["unitPrice"], x["amount"]) for x in q["lines"]] == [
        ("4901", 2, 1000, 2000),
        ("4904", 1, 550, 550),
    ]
    assert (q["totalAmount"], q["taxAmount"], q["totalAmountWithTax"]) == (2550, 200, 2750)
    assert await count(till) == before  # the quote writes nothing

    r = await post(till, "", body(TEA2, SANDWICH, pay=2750, reasonCode="GIFT", approval=MANAGER))
    tran = assert_ok(r)["data"]
    assert tran["transactionType"] == 102 and tran["blind"] is True
    assert tran["origin"] is None
    assert tran["totalAmountWithTax"] == 2750
    assert {t["taxCode"]: t["taxAmount"] for t in tran["taxes"]} == {"01": 200, "02": 50}
    assert [(x["itemCode"], x["quantity"], x["amount"]) for x in tran["lineItems"]] == [
        ("4901", 2, 2000),
        ("4904", 1, 550),
    ]
    assert [(p["paymentCode"], p["paymentAmount"]) for p in tran["payments"]] == [("01", 2750)]
    assert await count(till) == before + 1
    read = await till.client.get(
        till.transactions_url(f"/{tran['transactionNo']}"),
        params=till.till.params,
        headers=till.till.headers,
    )
    assert assert_ok(read)["data"]["blind"] is True
    # Its receipt says it had none (no original to name), why and who approved.
    for text in (tran["journalText"], tran["receiptText"]):
        assert "[レシートなし返品]" in text and "[対象レシート]" not in text
        assert "GIFT" in text and "M01" in text


async def test_a_lower_price_is_taken_a_higher_one_refused(till):
    lower = {"itemCode": "4901", "quantity": 1, "unitPrice": 800}
    q = assert_ok(await post(till, "/quote", body(lower)))["data"]
    assert (q["lines"][0]["amount"], q["totalAmountWithTax"]) == (800, 880)
    tran = assert_ok(await post(till, "", body(lower, pay=880, approval=MANAGER)))["data"]
    assert tran["lineItems"][0]["unitPrice"] == 800 and tran["totalAmountWithTax"] == 880

    before = await count(till)
    higher = {"itemCode": "4901", "quantity": 1, "unitPrice": 1001}
    r = await post(till, "", body(higher, pay=1101, approval=MANAGER))
    assert "1000" in assert_error(r, 400, "403016")["message"]
    assert_error(await post(till, "/quote", body(higher)), 400, "403016")
    assert await count(till) == before


async def test_always_needs_a_managers_approval(till):
    before = await count(till)
    one = {"itemCode": "4901", "quantity": 1}
    assert_error(await post(till, "", body(one, pay=1100)), 403, "403014")
    clerk = {"staffId": "S001", "pin": "1234"}
    assert_error(await post(till, "", body(one, pay=1100, approval=clerk)), 403, "403015")
    wrong = {"staffId": "M01", "pin": "0000"}
    assert_error(await post(till, "", body(one, pay=1100, approval=wrong)), 403, "403015")
    # The refund must still add up to the return.
    assert_error(await post(till, "", body(one, pay=1000, approval=MANAGER)), 400, "300001")
    assert await count(till) == before


async def test_refused_above_the_tenants_limit(till):
    before = await count(till)
    many = {"itemCode": "4901", "quantity": 5}  # 5500 with tax, the limit is 5000
    r = await post(till, "", body(many, pay=5500, approval=MANAGER))
    assert "5000" in assert_error(r, 400, "403017")["message"]
    assert_error(await post(till, "/quote", body(many)), 400, "403017")
    assert await count(till) == before
    # At the limit exactly: 4545 + 454 tax (floor) is below it.
    assert_ok(await post(till, "/quote", body({"itemCode": "4901", "quantity": 4})))


async def test_bad_input_writes_nothing(till):
    before = await count(till)
    assert_error(await post(till, "", body({"itemCode": "NOPE", "quantity": 1}, pay=1)), 404)
    assert_error(await post(till, "", body({"itemCode": "4901", "quantity": 0}, pay=1)), 422)
    assert_error(await post(till, "", {"lines": [], "payments": []}), 422)
    assert await count(till) == before


async def test_only_the_till_itself_of_that_store(client, shop, till):
    one = body({"itemCode": "4901", "quantity": 1}, pay=1100, approval=MANAGER)
    # Another till of the store on this till's path.
    other = Register(client, shop, shop.tills[1])
    r = await other.client.post(
        url(till), params=other.till.params, headers=other.till.headers, json=one
    )
    assert_error(r, 403)
    # A till of another store of the tenant.
    second = Shop(shop.tenant_id, shop.store_code + "B", shop.admin, shop.urls)
    r = await client.post(
        shop.url("terminal", f"/api/v1/tenants/{shop.tenant_id}/stores"),
        headers=shop.admin,
        json={"storeCode": second.store_code, "storeName": "Second store"},
    )
    assert_ok(r, 201)
    elsewhere: Till = await add_till(client, second, 1)
    await open_till(client, second, elsewhere)
    r = await client.post(url(till), params=elsewhere.params, headers=elsewhere.headers, json=one)
    assert_error(r, 403)
    assert_error(
        await client.post(
            url(till, "/quote"), params=elsewhere.params, headers=elsewhere.headers, json=one
        ),
        403,
    )
    # The admin is not a till.
    assert_error(await client.post(url(till), headers=shop.admin, json=one), 403)


def test_the_published_tranlog_says_blind_only_when_it_is() -> None:
    fields = {
        "tenant_id": "T",
        "store_code": "S",
        "terminal_no": 1,
        "terminal_id": "T-S-1",
        "transaction_no": 1,
        "transaction_type": 102,
        "receipt_no": 1,
        "generate_date_time": "2026-01-01T00:00:00",
        "source_id": "102:e",
        "event_id": "e",
        "sales": {},
    }
    assert "blind" not in TranlogDocument.model_validate(fields).payload()
    assert TranlogDocument.model_validate(fields | {"blind": True}).payload()["blind"] is True


async def test_a_blind_return_can_be_voided_by_its_till(till):
    one = body({"itemCode": "4905", "quantity": 2}, pay=259, approval=MANAGER)  # 240 + 8 % tax
    tran = assert_ok(await post(till, "", one))["data"]
    assert tran["totalAmountWithTax"] == 259
    r = await till.client.post(
        till.transactions_url(f"/{tran['transactionNo']}/void"),
        params=till.till.params,
        headers=till.till.headers,
        json=[{"paymentCode": "01", "amount": 259}],
    )
    voided = assert_ok(r)["data"]
    assert (
        voided["transactionType"] == 202
        and voided["origin"]["transactionNo"] == (tran["transactionNo"])
    )


async def test_the_quote_says_approval_is_needed_and_why(client, shop, till):
    md = shop.url("master-data", f"/api/v1/tenants/{shop.tenant_id}")
    broken = {
        "reasonCode": "BROKEN",
        "description": "Broken",
        "restock": False,
        "requiresApproval": True,
    }
    assert_ok(await client.post(f"{md}/return-reasons", headers=shop.admin, json=broken), 201)
    before = await count(till)
    one = {"itemCode": "4901", "quantity": 1}
    data = assert_ok(await post(till, "/quote", body(one)))["data"]
    assert data["approvalRequired"] is True and data["approvalReasons"] == ["blind"]
    data = assert_ok(await post(till, "/quote", body(one, reasonCode="GIFT")))["data"]
    assert data["approvalReasons"] == ["blind"]
    data = assert_ok(await post(till, "/quote", body(one, reasonCode="BROKEN")))["data"]
    assert data["approvalRequired"] is True
    assert data["approvalReasons"] == ["blind", "reason_requires_approval"]
    assert_error(await post(till, "/quote", body(one, reasonCode="NOPE")), 404, "100001")
    assert await count(till) == before
