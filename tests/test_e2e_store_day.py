"""A store day through HTTP across all seven services:
register, set up the store, open two tills, sell (mixed taxes, split tender, discounts), return,
void, cancel, close, the cart refuses a sale on the closed till, the journal holds every
receipt, cash movement and open/close of the day exactly once, and the stock of every item sold
moved by exactly what the day's transactions say, one history row per line; the store's daily
report is refused while a till is open and, once both closed, counts the day's sales."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

import httpx

from kugelpos.devstack.pos import Register, open_shop
from kugelpos.testkit.testing import assert_error, assert_ok

OPENING_STOCK = 100
# (update type, sign) the stock service books for each transaction type (§B4).
SALE, RETURN, VOID = ("sale", -1), ("return", 1), ("void", 1)


async def _stock_history(client: httpx.AsyncClient, url: str, admin: dict) -> list[dict[str, Any]]:
    r = await client.get(f"{url}/history", params={"limit": 1000}, headers=admin)
    return assert_ok(r)["data"]["data"]


def _chain(rows: list[dict[str, Any]], start: float) -> float:
    """Follows the rows from `start`, each one's before being the previous one's after, in
    whatever order the events were applied; returns where the chain ends (all rows used)."""
    left, at = list(rows), start
    while left:
        step = next((r for r in left if r["beforeQuantity"] == at), None)
        assert step is not None, f"no history row continues from {at}: {left}"
        assert step["afterQuantity"] == step["beforeQuantity"] + step["quantityChange"]
        left.remove(step)
        at = step["afterQuantity"]
    return at


async def test_store_day(stack):
    names = ("account", "terminal", "master-data", "cart", "report", "journal", "stock")
    urls = {n: stack.url(n) for n in names}
    async with httpx.AsyncClient(timeout=30) as client:
        shop = await open_shop(client, urls, terminals=2)
        first, second = (Register(client, shop, till) for till in shop.tills)

        # Opening stock of every item the day sells (the terminal set the tenant up in stock).
        stock = f"{urls['stock']}/api/v1/tenants/{shop.tenant_id}/stores/{shop.store_code}/stock"
        items = ("4901", "4902", "4903", "4904", "4905")
        before: dict[str, float] = {}
        for code in items:
            r = await client.put(
                f"{stock}/{code}/update",
                json={"quantityChange": OPENING_STOCK, "updateType": "initial"},
                headers=shop.admin,
            )
            assert_ok(r)
            row = assert_ok(await client.get(f"{stock}/{code}", headers=shop.admin))["data"]
            before[code] = row["currentQuantity"]

        # Morning: a mixed-tax sale with a cart discount, paid by card and cash.
        cart_id = await first.create()
        assert_ok(await first.add(cart_id, ("4901", 2), ("4902", 1), ("4903", 1)))
        assert_ok(await first.subtotal(cart_id))
        r = await first.post(
            f"/{cart_id}/discounts", [{"discountType": "DiscountAmount", "discountValue": 48}]
        )
        total = int(assert_ok(r)["data"]["totalAmountWithTax"])
        assert_ok(await first.pay(cart_id, ("11", 1000), ("01", total)))
        sale = assert_ok(await first.bill(cart_id))["data"]
        assert sale["changeAmount"] == 1000 and sale["balanceAmount"] == 0

        # More sales on both tills; one customer walks away (cancel).
        other = await second.sale(("4904", 2), ("4905", 1))
        third = await first.sale(("4905", 4))
        walked = await first.create()
        assert_ok(await first.add(walked, ("4901", 1)))
        assert_ok(await first.post(f"/{walked}/cancel"))

        # Afternoon: the second till takes a return of the first till's sale, and voids one
        # of its own (a void belongs to the till that recorded the sale).
        url = first.transactions_url(f"/{sale['transactionNo']}/return")
        returned = await client.post(
            url,
            params=second.till.params,
            headers=second.till.headers,
            json=[{"paymentCode": "01", "amount": total}],
        )
        assert assert_ok(returned)["data"]["transactionType"] == 102
        url = second.transactions_url(f"/{other['transactionNo']}/void")
        voided = await client.post(
            url,
            params=second.till.params,
            headers=second.till.headers,
            json=[{"paymentCode": "01", "amount": int(other["totalAmountWithTax"])}],
        )
        assert assert_ok(voided)["data"]["transactionType"] == 201

        # The day's transactions of the first till, cancelled included.
        listed = await client.get(
            first.transactions_url(),
            params=first.till.params | {"include_cancelled": "true", "limit": 0},
            headers=first.till.headers,
        )
        kinds = sorted(t["transactionType"] for t in assert_ok(listed)["data"])
        assert kinds == [101, 101, 101]

        # Evening: close the first till. The terminal service asks the cart for the session:
        # three transactions, and the cash they settled (the morning sale: its total less the
        # 1,000 on card; the return was paid out at the second till), so the drawer should
        # hold the float plus that cash.
        cash_sales = total - 1000 + int(third["totalAmountWithTax"])
        terminal = f"{urls['terminal']}/api/v1/terminals/{first.till.terminal_id}"
        closed = await client.post(
            f"{terminal}/close",
            headers=first.till.headers,
            json={"physicalAmount": 10000 + cash_sales - 10},
        )
        report = assert_ok(closed)["data"]
        assert report["cartTransactionCount"] == 3
        assert report["cashSalesAmount"] == cash_sales
        assert report["expectedAmount"] == 10000 + cash_sales
        assert report["differenceAmount"] == -10
        # The second till paid the return out and voided a cash sale: its cash is negative.
        summary = await client.get(
            second.transactions_url("/session-summary"),
            params=second.till.params
            | {"business_date": report["businessDate"], "open_counter": report["openCounter"]},
            headers=second.till.headers,
        )
        data = assert_ok(summary)["data"]
        assert data["transactionCount"] == 3  # its sale, the return and the void
        assert data["cashSalesAmount"] == -total

        # The cart learns of the close (open/close event) and refuses new sales there.
        deadline = asyncio.get_running_loop().time() + 20
        while True:
            r = await first.post("", {"transactionType": 101})
            if r.status_code == 400:
                assert_error(r, 400, "404001")
                break
            assert r.status_code == 201, r.text
            assert asyncio.get_running_loop().time() < deadline, "closed till still sells"
            await asyncio.sleep(0.2)

        # The journal: every log of the day once, whichever till and whatever the topic.
        journals = f"{urls['journal']}/api/v1/tenants/{shop.tenant_id}"
        journals += f"/stores/{shop.store_code}/journals"
        expected = {
            first.till.terminal_no: Counter({101: 2, -101: 1, 301: 1, 302: 1, 401: 1}),
            second.till.terminal_no: Counter({101: 1, 102: 1, 201: 1, 301: 1, 401: 1}),
        }
        want = sum(sum(kinds.values()) for kinds in expected.values())
        deadline = asyncio.get_running_loop().time() + 30
        while True:
            r = await client.get(journals, headers=shop.admin, params={"limit": 1000})
            entries = assert_ok(r)["data"]
            if len(entries) >= want or asyncio.get_running_loop().time() > deadline:
                break
            await asyncio.sleep(0.2)
        seen = {
            till: Counter(e["transactionType"] for e in entries if e["terminalNo"] == till)
            for till in expected
        }
        assert seen == expected
        assert len(entries) == want
        # Each sale, return and void is the cart's own transaction, each exactly once.
        numbers = Counter(
            (e["terminalNo"], e["transactionNo"]) for e in entries if e["transactionNo"] is not None
        )
        assert set(numbers.values()) == {1}
        recorded = {
            (first.till.terminal_no, sale["transactionNo"]),
            (first.till.terminal_no, third["transactionNo"]),
            (second.till.terminal_no, other["transactionNo"]),
            (second.till.terminal_no, returned.json()["data"]["transactionNo"]),
            (second.till.terminal_no, voided.json()["data"]["transactionNo"]),
        }
        assert recorded <= set(numbers)

        # Stock: each line of each sale, return and void moved its item once (the cancelled
        # cart moved nothing), booked with its transaction; quantity after = before - sold.
        moved = [
            (
                first.till.terminal_no,
                sale["transactionNo"],
                SALE,
                [("4901", 2), ("4902", 1), ("4903", 1)],
            ),
            (second.till.terminal_no, other["transactionNo"], SALE, [("4904", 2), ("4905", 1)]),
            (first.till.terminal_no, third["transactionNo"], SALE, [("4905", 4)]),
            (
                second.till.terminal_no,
                returned.json()["data"]["transactionNo"],
                RETURN,
                [("4901", 2), ("4902", 1), ("4903", 1)],
            ),
            (
                second.till.terminal_no,
                voided.json()["data"]["transactionNo"],
                VOID,
                [("4904", 2), ("4905", 1)],
            ),
        ]
        wanted: dict[str, Counter] = {code: Counter() for code in items}
        for terminal_no, number, (kind, sign), lines in moved:
            for code, qty in lines:
                wanted[code][(kind, sign * qty, str(number), f"{terminal_no}-{number}")] += 1
        after: dict[str, float] = {}
        for code in items:
            deadline = asyncio.get_running_loop().time() + 30
            while True:
                rows = await _stock_history(client, f"{stock}/{code}", shop.admin)
                booked = [r for r in rows if r["updateType"] != "initial"]
                if len(booked) >= sum(wanted[code].values()):
                    break
                assert asyncio.get_running_loop().time() < deadline, f"stock of {code}: {rows}"
                await asyncio.sleep(0.2)
            got = Counter(
                (r["updateType"], r["quantityChange"], r["referenceId"], r["transactionKey"])
                for r in booked
            )
            assert got == wanted[code], code
            sold = -sum(change * n for (_, change, _, _), n in wanted[code].items())
            row = assert_ok(await client.get(f"{stock}/{code}", headers=shop.admin))["data"]
            assert row["currentQuantity"] == before[code] - sold, code
            initial = [r for r in rows if r["updateType"] == "initial"]
            assert len(initial) == 1 and initial[0]["afterQuantity"] == before[code]
            assert _chain(booked, before[code]) == row["currentQuantity"]
            after[code] = row["currentQuantity"]
        # Net of the return and the void, only 4905's third sale (4 units) is still out.
        assert after == dict.fromkeys(items, OPENING_STOCK) | {"4905": OPENING_STOCK - 4}

        # Report: the store's daily report waits until every till that opened has closed and
        # its logs have all arrived; the second till is still open.
        reports = f"{urls['report']}/api/v1/tenants/{shop.tenant_id}"
        reports += f"/stores/{shop.store_code}/reports"
        daily = {
            "report_scope": "daily",
            "report_type": "sales",
            "business_date": report["businessDate"],
        }
        r = await client.get(reports, params=daily, headers=shop.admin)
        assert_error(r, 403, "412101")
        second_terminal = f"{urls['terminal']}/api/v1/terminals/{second.till.terminal_id}"
        r = await client.post(
            f"{second_terminal}/close", headers=second.till.headers, json={"physicalAmount": 0}
        )
        assert_ok(r)
        deadline = asyncio.get_running_loop().time() + 30
        while (r := await client.get(reports, params=daily, headers=shop.admin)).status_code == 403:
            assert_error(r, 403, "412101")
            assert asyncio.get_running_loop().time() < deadline, "daily report never allowed"
            await asyncio.sleep(0.2)
        figures = assert_ok(r)["data"]
        # Three sales less the voided one; the cancelled cart is no sale. Gross is before the
        # 48 discount of the morning sale (§3.7), and the void takes the second till's sale off.
        assert figures["salesGross"]["count"] == 2
        assert figures["salesGross"]["amount"] == total + 48 + int(third["totalAmountWithTax"])
        assert figures["returns"]["count"] == 1
        assert figures["returns"]["amount"] == total
