"""Partial and repeated returns through HTTP (issue 25): the worked example of docs/cart.md
"Partial returns" returned in three steps, the quote, refusals that write nothing, voids of
sales with returns and of returns, and concurrent returns of the last unit."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from pymongo import AsyncMongoClient

from kugelpos.cart.master_data_client import parameter_flag
from kugelpos.devstack.pos import Register, Shop, open_shop
from kugelpos.devstack.stack import Stack
from kugelpos.testkit.testing import assert_error, assert_ok


@pytest.fixture(scope="module")
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=30, limits=httpx.Limits(max_connections=50)) as c:
        yield c


@pytest.fixture(scope="module")
async def shop(stack: Stack, client: httpx.AsyncClient) -> Shop:
    urls = {name: stack.url(name) for name in ("account", "terminal", "master-data", "cart")}
    return await open_shop(client, urls, terminals=2)


@pytest.fixture
def till(client, shop) -> Register:
    return Register(client, shop, shop.tills[0])


@pytest.fixture
def till2(client, shop) -> Register:
    return Register(client, shop, shop.tills[1])


async def worked_sale(till: Register) -> dict[str, Any]:
    """4901 (1000, 01 external 10 %) x 3; 4905 (120, 11 external 8 %) x 2 at 10 % off;
    4904 (550, 02 internal 10 %) x 1; a subtotal discount of 500; paid 3540 cash."""
    cart_id = await till.create()
    assert_ok(await till.add(cart_id, ("4901", 3), ("4905", 2), ("4904", 1)))
    discount = [{"discountType": "DiscountPercentage", "discountValue": 10}]
    assert_ok(await till.post(f"/{cart_id}/lineItems/2/discounts", discount))
    assert_ok(await till.subtotal(cart_id))
    subtotal = [{"discountType": "DiscountAmount", "discountValue": 500}]
    assert_ok(await till.post(f"/{cart_id}/discounts", subtotal))
    assert_ok(await till.pay(cart_id, ("01", 3540)))
    return assert_ok(await till.bill(cart_id))["data"]


async def give_back(till: Register, number: int, body: Any, terminal_no: int | None = None):
    url = till.transactions_url(f"/{number}/return", terminal_no)
    return await till.client.post(
        url, params=till.till.params, headers=till.till.headers, json=body
    )


async def quote(till: Register, number: int, body: Any, terminal_no: int | None = None):
    url = till.transactions_url(f"/{number}/return/quote", terminal_no)
    return await till.client.post(
        url, params=till.till.params, headers=till.till.headers, json=body
    )


async def void(till: Register, number: int, tenders, terminal_no: int | None = None):
    url = till.transactions_url(f"/{number}/void", terminal_no)
    body = [{"paymentCode": c, "amount": a} for c, a in tenders]
    return await till.client.post(
        url, params=till.till.params, headers=till.till.headers, json=body
    )


async def read(till: Register, number: int, terminal_no: int | None = None) -> dict[str, Any]:
    url = till.transactions_url(f"/{number}", terminal_no)
    r = await till.client.get(url, params=till.till.params, headers=till.till.headers)
    return assert_ok(r)["data"]


async def count(till: Register) -> int:
    r = await till.client.get(
        till.transactions_url(), params=till.till.params | {"limit": 0}, headers=till.till.headers
    )
    return assert_ok(r)["metadata"]["total"]


def lines(*pairs: tuple[int, int]) -> list[dict[str, int]]:
    return [{"lineNo": n, "quantity": q} for n, q in pairs]


async def test_worked_example_returned_in_three_steps(till, till2):
    sale = await worked_sale(till)
    assert sale["totalAmountWithTax"] == 3540
    assert {t["taxCode"]: t["taxAmount"] for t in sale["taxes"]} == {"01": 260, "11": 14, "02": 43}
    number = sale["transactionNo"]

    # Step 1 at the other till: one tea and one coffee. The quote first; it writes nothing.
    before = await count(till2)
    q1 = assert_ok(await quote(till2, number, {"lines": lines((1, 1), (2, 1))}, 1))["data"]
    assert q1["lines"] == [
        {"lineNo": 1, "quantity": 1, "amount": 953},
        {"lineNo": 2, "quantity": 1, "amount": 99},
    ]
    assert (q1["totalAmount"], q1["taxAmount"], q1["totalAmountWithTax"]) == (960, 92, 1052)
    assert await count(till2) == before
    body = {"lines": lines((1, 1), (2, 1)), "payments": [{"paymentCode": "01", "amount": 1052}]}
    r1 = assert_ok(await give_back(till2, number, body, 1))["data"]
    assert r1["transactionType"] == 102 and r1["terminalNo"] == 2
    assert r1["origin"] == {"terminalNo": 1, "transactionNo": number}
    assert [(x["lineNo"], x["quantity"], x["amount"]) for x in r1["lineItems"]] == [
        (1, 1, 999),
        (2, 1, 107),
    ]
    # (v1's Tran repeats the total with tax in totalAmount)
    assert r1["totalAmountWithTax"] == 1052 and r1["totalAmount"] == 1052
    assert {t["taxCode"]: t["taxAmount"] for t in r1["taxes"]} == {"01": 86, "11": 6}
    assert r1["subtotalDiscounts"][0]["discountAmount"] == 146  # 132 + 14
    seen = await read(till, number)
    assert [x["returnedQuantity"] for x in seen["lineItems"]] == [1, 1, 0]
    assert seen["returns"] == [{"terminalNo": 2, "transactionNo": r1["transactionNo"]}]
    assert seen["status"]["isRefunded"] is False

    # Step 2: another tea and the sandwich.
    body = {"lines": lines((1, 1), (3, 1)), "payments": [{"paymentCode": "01", "amount": 1431}]}
    r2 = assert_ok(await give_back(till, number, body))["data"]
    assert r2["totalAmountWithTax"] == 1431
    assert {t["taxCode"]: t["taxAmount"] for t in r2["taxes"]} == {"01": 87, "02": 43}

    # Step 3: v1's body, everything left (the last tea and coffee) takes the remainders.
    left = assert_ok(await quote(till, number, {}))["data"]
    assert left["totalAmountWithTax"] == 1057
    r3 = assert_ok(await give_back(till, number, [{"paymentCode": "01", "amount": 1057}]))["data"]
    assert [(x["lineNo"], x["quantity"], x["amount"]) for x in r3["lineItems"]] == [
        (1, 1, 1001),
        (2, 1, 109),
    ]
    assert {t["taxCode"]: t["taxAmount"] for t in r3["taxes"]} == {"01": 87, "11": 8}
    assert sale["totalAmountWithTax"] == 1052 + 1431 + 1057

    seen = await read(till, number)
    assert [x["returnedQuantity"] for x in seen["lineItems"]] == [3, 2, 1]
    assert seen["status"]["isRefunded"] is True and len(seen["returns"]) == 3
    again = await give_back(till, number, [{"paymentCode": "01", "amount": 1}])
    assert_error(again, 400, "403006")
    assert_error(await quote(till, number, {}), 400, "403006")


async def test_refusals_write_nothing(till):
    cart_id = await till.create()
    assert_ok(await till.add(cart_id, ("4901", 2), ("4905", 1)))
    assert_ok(await till.post(f"/{cart_id}/lineItems/2/cancel"))
    assert_ok(await till.subtotal(cart_id))
    assert_ok(await till.pay(cart_id, ("01", 2200)))
    number = assert_ok(await till.bill(cart_id))["data"]["transactionNo"]
    before = await count(till)
    pay = [{"paymentCode": "01", "amount": 1100}]

    r = await give_back(till, number, {"lines": lines((1, 3)), "payments": pay})
    assert "2 left" in assert_error(r, 400, "403012")["message"]
    assert_error(await quote(till, number, {"lines": lines((1, 3))}), 400, "403012")
    r = await give_back(till, number, {"lines": lines((2, 1)), "payments": pay})
    assert "cancelled" in assert_error(r, 400, "403013")["message"]
    r = await give_back(till, number, {"lines": lines((9, 1)), "payments": pay})
    assert_error(r, 400, "403013")
    r = await give_back(till, number, {"lines": lines((1, 1), (1, 1)), "payments": pay})
    assert_error(r, 422)
    r = await give_back(till, number, {"lines": lines((1, 0)), "payments": pay})
    assert_error(r, 422)
    r = await give_back(till, number, {"lines": lines((1, 1))})  # no payments
    assert_error(r, 422)
    wrong = [{"paymentCode": "01", "amount": 1000}]
    r = await give_back(till, number, {"lines": lines((1, 1)), "payments": wrong})
    assert "1100" in assert_error(r, 400, "300001")["message"]

    assert await count(till) == before
    seen = await read(till, number)
    assert [x["returnedQuantity"] for x in seen["lineItems"]] == [0, 0]
    assert seen["returns"] == [] and seen["status"]["isRefunded"] is False


async def test_a_sale_with_returns_cannot_be_voided_and_a_voided_return_gives_back(till):
    sale = await till.sale(("4901", 2))
    number = sale["transactionNo"]
    body = {"lines": lines((1, 1)), "payments": [{"paymentCode": "01", "amount": 1100}]}
    returned = assert_ok(await give_back(till, number, body))["data"]
    r = await void(till, number, [("01", 2200)])
    assert "void them" in assert_error(r, 400, "403006")["message"]

    assert_ok(await void(till, returned["transactionNo"], [("01", 1100)]))
    seen = await read(till, number)
    assert seen["lineItems"][0]["returnedQuantity"] == 0 and seen["returns"] == []
    # Both units can be returned again; with no live return the sale can be voided.
    assert assert_ok(await quote(till, number, {}))["data"]["totalAmountWithTax"] == 2200
    assert_ok(await void(till, number, [("01", 2200)]))
    assert_error(await quote(till, number, {}), 400, "403005")


async def test_concurrent_returns_of_the_last_unit_take_it_once(till, till2):
    sale = await till.sale(("4901", 2), ("4905", 1))
    number = sale["transactionNo"]
    body = {"lines": lines((1, 1)), "payments": [{"paymentCode": "01", "amount": 1100}]}
    assert_ok(await give_back(till, number, body))
    results = await asyncio.gather(
        *(give_back(t, number, body, 1) for t in (till, till2, till, till2, till))
    )
    assert sorted(r.status_code for r in results) == [200, 400, 400, 400, 400], [
        r.text for r in results
    ]
    for r in results:
        if r.status_code == 400:
            assert_error(r, 400, "403012")
    seen = await read(till, number)
    assert [x["returnedQuantity"] for x in seen["lineItems"]] == [2, 0]
    assert len(seen["returns"]) == 2 and seen["status"]["isRefunded"] is False


# ---- tenders, reasons and a manager's approval ---------------------------------------------

MANAGER = {"staffId": "M01", "pin": "9876"}


@pytest.fixture(scope="module")
async def approvals(client, shop) -> None:
    """A manager (M01) and a manager whose PIN will be throttled (M02); two reasons."""
    md = shop.url("master-data", f"/api/v1/tenants/{shop.tenant_id}")
    for staff_id in ("M01", "M02"):
        body = {"id": staff_id, "name": "Manager", "pin": "9876", "roles": ["manager"]}
        assert_ok(await client.post(f"{md}/staff", headers=shop.admin, json=body), 201)
    for code, approval in (("DAMAGED", True), ("CHANGED", False)):
        body = {
            "reasonCode": code,
            "description": code,
            "restock": not approval,
            "requiresApproval": approval,
        }
        assert_ok(await client.post(f"{md}/return-reasons", headers=shop.admin, json=body), 201)


def returning(*pays: tuple[str, int], line=(1, 1), **extra: Any) -> dict[str, Any]:
    payments = [{"paymentCode": c, "amount": a} for c, a in pays]
    return {"lines": lines(line), "payments": payments} | extra


async def test_another_tender_needs_a_managers_approval(till, approvals):
    sale = await till.sale(("4901", 2), tenders=[("11", 2200)])
    number = sale["transactionNo"]
    before = await count(till)
    r = await give_back(till, number, returning(("01", 1100)))
    assert "not paid with" in assert_error(r, 403, "403014")["message"]
    clerk = {"staffId": "S001", "pin": "1234"}  # right PIN, not a manager
    r = await give_back(till, number, returning(("01", 1100), approval=clerk))
    assert "manager" in assert_error(r, 403, "403015")["message"]
    wrong = {"staffId": "M01", "pin": "0000"}
    assert_error(
        await give_back(till, number, returning(("01", 1100), approval=wrong)), 403, "403015"
    )
    unknown = {"staffId": "NOPE", "pin": "0000"}
    assert_error(
        await give_back(till, number, returning(("01", 1100), approval=unknown)), 403, "403015"
    )
    assert await count(till) == before
    assert (await read(till, number))["returns"] == []
    assert_ok(await give_back(till, number, returning(("01", 1100), approval=MANAGER)))
    # The sale's own tender needs no approval.
    assert_ok(await give_back(till, number, returning(("11", 1100))))


async def test_a_tender_up_to_what_was_paid_with_it_minus_earlier_refunds(till, approvals):
    sale = await till.sale(("4901", 2), tenders=[("11", 1000), ("01", 1200)])
    number = sale["transactionNo"]
    r = await give_back(till, number, returning(("11", 1100)))
    assert "1000 is left" in assert_error(r, 403, "403014")["message"]
    first = assert_ok(await give_back(till, number, returning(("11", 1000), ("01", 100))))["data"]
    # The card is fully refunded now: another card refund needs approval, cash does not.
    r = await give_back(till, number, returning(("11", 100), ("01", 1000)))
    assert "0 is left" in assert_error(r, 403, "403014")["message"]
    # Voiding the first return gives its tenders back with its units.
    assert_ok(await void(till, first["transactionNo"], [("11", 1000), ("01", 100)]))
    assert_ok(await give_back(till, number, returning(("11", 1000), ("01", 100))))
    assert_ok(await give_back(till, number, returning(("01", 1100))))
    assert (await read(till, number))["status"]["isRefunded"] is True


async def test_a_reason_may_require_approval(till, approvals):
    sale = await till.sale(("4901", 3))
    number = sale["transactionNo"]
    r = await give_back(till, number, returning(("01", 1100), reasonCode="DAMAGED"))
    assert "DAMAGED" in assert_error(r, 403, "403014")["message"]
    r = await give_back(till, number, returning(("01", 1100), reasonCode="UNKNOWN"))
    assert_error(r, 404, "100001")
    assert_ok(
        await give_back(
            till, number, returning(("01", 1100), reasonCode="DAMAGED", approval=MANAGER)
        )
    )
    assert_ok(await give_back(till, number, returning(("01", 1100), reasonCode="CHANGED")))
    assert [x["returnedQuantity"] for x in (await read(till, number))["lineItems"]] == [2]


async def test_wrong_approval_pins_are_throttled_as_at_sign_in(till, approvals):
    sale = await till.sale(("4901", 1), tenders=[("11", 1100)])
    number = sale["transactionNo"]
    wrong = returning(("01", 1100), approval={"staffId": "M02", "pin": "0000"})
    codes = [(await give_back(till, number, wrong)).status_code for _ in range(7)]
    assert codes[0] == 403 and codes[-1] == 429, codes
    right = returning(("01", 1100), approval={"staffId": "M02", "pin": "9876"})
    assert_error(await give_back(till, number, right), 429, "200003")
    assert (await read(till, number))["returns"] == []


async def test_a_retried_return_with_the_same_idempotency_key_answers_the_first(till):
    sale = await till.sale(("4901", 2))
    number = sale["transactionNo"]
    url = till.transactions_url(f"/{number}/return")
    body = returning(("01", 1100))
    headers = till.till.headers | {"Idempotency-Key": f"return-{number}"}
    answers = [
        await till.client.post(url, params=till.till.params, headers=headers, json=body)
        for _ in range(2)
    ]
    first, second = (assert_ok(r)["data"] for r in answers)
    assert second["transactionNo"] == first["transactionNo"]
    assert answers[1].headers.get("Idempotent-Replayed") == "true"
    seen = await read(till, number)
    assert seen["lineItems"][0]["returnedQuantity"] == 1 and len(seen["returns"]) == 1


async def test_v1s_array_body_keeps_v1s_tender_rule(till, approvals):
    """Nothing changes for a v1 till: any refundable tender, no approval asked."""
    sale = await till.sale(("4901", 1), tenders=[("11", 1100)])
    assert_ok(await give_back(till, sale["transactionNo"], [{"paymentCode": "01", "amount": 1100}]))


@pytest.fixture(scope="module")
async def strict_till(stack: Stack, client: httpx.AsyncClient) -> Register:
    """A tenant that holds v1's array body to the tender rules (RETURN_TENDER_RULES_FOR_V1)."""
    urls = {name: stack.url(name) for name in ("account", "terminal", "master-data", "cart")}
    flag = {"name": "RETURN_TENDER_RULES_FOR_V1", "defaultValue": "true", "values": []}
    shop = await open_shop(client, urls, settings=[flag])
    return Register(client, shop, shop.tills[0])


async def test_v1s_array_body_held_to_the_tender_rules_when_the_tenant_says_so(strict_till):
    """With RETURN_TENDER_RULES_FOR_V1 true, v1's body is refused another tender than the
    sale's (it cannot carry an approval) and writes nothing; the sale's own tender passes."""
    till = strict_till
    sale = await till.sale(("4901", 1), tenders=[("11", 1100)])
    number = sale["transactionNo"]
    before = await count(till)
    r = await give_back(till, number, [{"paymentCode": "01", "amount": 1100}])
    message = assert_error(r, 403, "403014")["message"]
    assert "not paid with" in message and "object form" in message, message
    assert await count(till) == before
    seen = await read(till, number)
    assert seen["returns"] == [] and seen["status"]["isRefunded"] is False
    assert seen["lineItems"][0]["returnedQuantity"] == 0

    returned = assert_ok(await give_back(till, number, [{"paymentCode": "11", "amount": 1100}]))
    assert returned["data"]["transactionType"] == 102
    assert (await read(till, number))["status"]["isRefunded"] is True


async def test_the_return_receipt_names_the_sale_and_lists_only_the_returned_lines(
    till, till2, approvals
):
    """The receipt and journal text of a partial return (issue 25): the original's store,
    terminal, receipt and transaction numbers, and only the returned lines and units."""
    sale = await worked_sale(till)
    number = sale["transactionNo"]
    body = returning(("01", 1052), line=(1, 1)) | {
        "lines": lines((1, 1), (2, 1)),
        "reasonCode": "DAMAGED",
        "approval": MANAGER,
    }
    tran = assert_ok(await give_back(till2, number, body, 1))["data"]
    for text in (tran["journalText"], tran["receiptText"]):
        assert "返 品 伝 票" in text and "[対象レシート]" in text
        assert "Green Tea 500ml" in text and "Coffee" in text
        assert "Sandwich" not in text  # line 3 was not returned
        assert "返品理由" in text and "DAMAGED" in text and "M01" in text
    journal = tran["journalText"]
    origin = journal[journal.index("[対象レシート]") :]
    assert till.till.store_code in origin
    for label, value in (
        ("レジNo.", 1),
        ("レシートNo.", sale["receiptNo"]),
        ("取引通番", number),
    ):
        row = next(line for line in origin.splitlines() if line.startswith(label))
        assert row.split()[-1] == str(value), row
    # One unit each: no "n 個@price" quantity row; the tea line prints its returned amount,
    # and the subtotal counts the two returned units.
    assert "個@" not in journal and "999" in journal
    assert any(line.startswith("小計") and "2 個" in line for line in journal.splitlines())


async def test_a_return_whose_tranlog_cannot_be_written_leaves_the_sale_as_it_was(
    stack: Stack, client: httpx.AsyncClient
) -> None:
    """The claim on the sale commits with the return's tranlog or not at all: a return whose
    tranlog write fails (here its number is taken in `log_tran`, so the insert fails inside
    the transaction) leaves the sale's status exactly as it was (not claimed then released:
    no version step, no entry), and the units stay returnable."""
    urls = {name: stack.url(name) for name in ("account", "terminal", "master-data", "cart")}
    shop = await open_shop(client, urls, terminals=1)
    till = Register(client, shop, shop.tills[0])
    sale = await worked_sale(till)
    number = sale["transactionNo"]
    mongo: AsyncMongoClient = AsyncMongoClient(stack.mongo_uri_for("cart"), tz_aware=True)
    db = mongo[stack.db_name("cart", shop.tenant_id)]
    key = {
        "tenant_id": shop.tenant_id,
        "store_code": shop.store_code,
        "terminal_no": till.till.terminal_no,
    }
    try:
        counter = await db["info_terminal_counter"].find_one({"terminal_id": till.till.terminal_id})
        taken = int(counter["count_dic"]["Transaction"]) + 1
        await db["log_tran"].insert_one({**key, "transaction_no": taken, "source_id": "taken"})
        before = await db["status_tran"].find_one({**key, "transaction_no": number})

        body = {
            "lines": [{"lineNo": 1, "quantity": 1}],
            "payments": [{"paymentCode": "01", "amount": 953}],
        }
        r = await give_back(till, number, body)
        assert_error(r, 409, "500005")  # the number taken: the insert failed
        after = await db["status_tran"].find_one({**key, "transaction_no": number})
        assert (after or {}).get("return_version") in (None, 0), after
        assert not (after or {}).get("returns") and not (after or {}).get("returned_units")
        assert (before or {}).get("returned_quantities") == (after or {}).get("returned_quantities")
        assert await db["log_tran"].count_documents({"origin.transaction_no": number}) == 0

        # The number stays a gap; the next try takes the next one and the unit.
        returned = assert_ok(await give_back(till, number, body))["data"]
        assert returned["transactionType"] == 102
        assert (await read(till, number))["lineItems"][0]["returnedQuantity"] == 1
    finally:
        await db["log_tran"].delete_one({"source_id": "taken"})
        await mongo.close()


def test_the_v1_tender_rules_flag_is_on_only_when_it_says_true() -> None:
    assert parameter_flag("true") and parameter_flag(" TRUE ") and parameter_flag('"true"')
    assert not any(parameter_flag(x) for x in (None, "", "false", "yes", "1", "truthy"))


async def test_the_quote_says_whether_approval_will_be_needed(till, approvals):
    """The quote has no payments: it names what the reason requires; the return's tenders may
    add `other_tender` (a card sale refunded in cash), which the quote cannot know."""
    sale = await till.sale(("4901", 2), tenders=[("11", 2200)])
    number = sale["transactionNo"]
    before = await count(till)
    plain = assert_ok(await quote(till, number, {"lines": lines((1, 1))}))["data"]
    assert plain["approvalRequired"] is False and plain["approvalReasons"] == []
    assert plain["totalAmountWithTax"] == 1100
    damaged = {"lines": lines((1, 1)), "reasonCode": "DAMAGED"}
    data = assert_ok(await quote(till, number, damaged))["data"]
    assert data["approvalRequired"] is True
    assert data["approvalReasons"] == ["reason_requires_approval"]
    changed = assert_ok(await quote(till, number, {"reasonCode": "CHANGED"}))["data"]
    assert changed["approvalRequired"] is False and changed["approvalReasons"] == []
    assert changed["totalAmountWithTax"] == 2200
    r = await quote(till, number, {"reasonCode": "UNKNOWN"})
    assert_error(r, 404, "100001")
    assert await count(till) == before
    # What the quote said holds at the return: the reason needs approval, and here the cash
    # refund of a card sale needs it too (`other_tender`), which one approval covers.
    r = await give_back(till, number, returning(("11", 1100), reasonCode="DAMAGED"))
    assert "DAMAGED" in assert_error(r, 403, "403014")["message"]
    r = await give_back(till, number, returning(("01", 1100), reasonCode="CHANGED"))
    assert "not paid with" in assert_error(r, 403, "403014")["message"]
    assert_ok(
        await give_back(
            till, number, returning(("01", 1100), reasonCode="DAMAGED", approval=MANAGER)
        )
    )
