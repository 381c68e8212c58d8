"""A store day with a network outage (issue 27, docs/offline.md), through HTTP across the
stack. Before the outage one till takes the store's data feed (a full snapshot) and a block of
numbers. Cut off, it sells 50 sales priced by its own arithmetic from the feed alone (the
cart's pricing is asked only as an oracle that the till priced as the server would), moves
cash and closes; meanwhile the back office raises a price the till does not hear of, and the
other till sells online. Back online the till uploads its sales (one with a tampered total)
twice, then its session: journal, report and stock end exact (each accepted sale once, the
tampered one nowhere, rejected with its reason), the lines sold at the old price after the
change are the discrepancies (and none before it), the close waits for its sales and the
daily report then counts the day, and the feed's delta brings the till the new price."""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from datetime import UTC, datetime
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal
from typing import Any

import httpx

from kugelpos.cart.domain.masters import TaxMaster
from kugelpos.cart.domain.models import Cart, LineItem, TaxType
from kugelpos.cart.pricing.engine import PricingContext, recalculate
from kugelpos.cart.pricing.money import RoundMethod
from kugelpos.devstack.pos import OPENING_FLOAT, Register, Shop, Till, open_shop
from kugelpos.testkit.testing import assert_error, assert_ok

NAMES = ("account", "terminal", "master-data", "cart", "report", "journal", "stock")
SOLD = ("4901", "4902", "4903", "4904", "4905")
CHANGED = "4905"  # its price goes 120 -> 150 while the till is offline
NEW_PRICE = 150
OFFLINE_SALES = 50
TAMPERED = 17  # the sale whose total the test raises by one yen
OPENING_STOCK = 1000
ROUNDING = {"Floor": ROUND_FLOOR, "Ceil": ROUND_CEILING, "Round": ROUND_HALF_UP}


class FeedTill:
    """The till's own copy of the store's data, kept from the feed, and its own pricing."""

    def __init__(self, client: httpx.AsyncClient, shop: Shop, till: Till) -> None:
        self.client, self.shop, self.till = client, shop, till
        self.url = shop.url(
            "master-data", f"/api/v1/tenants/{shop.tenant_id}/stores/{till.store_code}/sync"
        )
        self.held: dict[tuple[str, str], dict[str, Any]] = {}
        self.cursor: str | None = None

    async def follow(self, limit: int = 200) -> list[dict[str, Any]]:
        """A snapshot (first time) or the delta since the last cursor, every page applied."""
        seen: list[dict[str, Any]] = []
        while True:
            params = self.till.params | {"limit": limit}
            if self.cursor is not None:
                params["since"] = self.cursor
            r = await self.client.get(self.url, params=params, headers=self.till.headers)
            page = assert_ok(r)["data"]
            for change in page["changes"]:
                key = (change["kind"], change["key"])
                if change["op"] == "delete":
                    self.held.pop(key, None)
                else:
                    self.held[key] = change["data"]
            seen += page["changes"]
            self.cursor = page["cursor"]
            if not page["hasMore"]:
                return seen

    def item(self, code: str) -> dict[str, Any]:
        return self.held[("item", code)]

    def tax(self, code: str) -> dict[str, Any]:
        return self.held[("tax", code)]

    def price(self, entries: list[tuple[str, int]], cash_rounding: int = 1000) -> dict[str, Any]:
        """A sale of these (item, quantity) lines paid in cash, as the till prices it from
        its feed data: line = price x quantity; one tax per tax code over its lines' amounts,
        rounded once by the tax's rule; external taxes on top."""
        lines, taxes, groups = [], [], {}
        for no, (code, qty) in enumerate(entries, start=1):
            item = self.item(code)
            price = Decimal(str(item["price"]))
            amount = price * qty
            lines.append(
                {"lineNo": no, "itemCode": code, "itemName": item["description"],
                 "categoryCode": item["categoryCode"], "taxCode": item["taxCode"],
                 "unitPrice": float(price), "quantity": qty, "amount": float(amount),
                 "discounts": [], "isCancelled": False}
            )  # fmt: skip
            target, count = groups.get(item["taxCode"], (Decimal(0), 0))
            groups[item["taxCode"]] = (target + amount, count + qty)
        external = Decimal(0)
        for no, (code, (target, count)) in enumerate(groups.items(), start=1):
            tax = self.tax(code)
            rate = Decimal(str(tax["rate"]))
            if tax["taxType"] == "Exempt" or not rate:
                amount = Decimal(0)
            else:
                share = rate / 100 if tax["taxType"] == "External" else rate / (100 + rate)
                quantum = Decimal(1).scaleb(-max(int(tax["roundDigit"]), 0))
                method = ROUNDING[tax["roundMethod"] or "Round"]
                amount = (target * share).quantize(quantum, rounding=method)
            if tax["taxType"] == "External":
                external += amount
            taxes.append(
                {"taxNo": no, "taxCode": code, "taxType": tax["taxType"],
                 "taxName": tax["taxName"], "taxAmount": float(amount),
                 "targetAmount": float(target), "targetQuantity": count}
            )  # fmt: skip
        total = sum((Decimal(str(line["amount"])) for line in lines), Decimal(0)) + external
        handed = (total / cash_rounding).to_integral_value(ROUND_CEILING) * cash_rounding
        return {
            "lineItems": lines,
            "taxes": taxes,
            "subtotalDiscounts": [],
            "totalAmount": float(total),
            "totalAmountWithTax": float(total),
            "totalQuantity": sum(qty for _, qty in entries),
            "totalDiscountAmount": 0,
            "depositAmount": float(handed),
            "changeAmount": float(handed - total),
            "payments": [
                {
                    "paymentNo": 1,
                    "paymentCode": "01",
                    "paymentName": "Cash",
                    "paymentAmount": float(total),
                    "depositAmount": float(handed),
                }
            ],
        }

    def oracle(self, entries: list[tuple[str, int]]) -> Cart:
        """The cart's own pricing over the same lines and the feed's tax table."""
        masters = {
            code: TaxMaster(
                tax_code=code,
                tax_type=TaxType(t["taxType"]),
                tax_name=t["taxName"],
                rate=Decimal(str(t["rate"])),
                round_digit=int(t["roundDigit"]),
                round_method=RoundMethod(t["roundMethod"]) if t["roundMethod"] else None,
            )
            for (kind, code), t in self.held.items()
            if kind == "tax"
        }
        lines = tuple(
            LineItem(
                line_no=no,
                item_code=code,
                item_name=code,
                tax_code=self.item(code)["taxCode"],
                unit_price=Decimal(str(self.item(code)["price"])),
                quantity=qty,
            )
            for no, (code, qty) in enumerate(entries, start=1)
        )
        return recalculate(Cart(cart_id="oracle", line_items=lines), PricingContext(masters))


def _same_as_the_cart(sale: dict[str, Any], cart: Cart) -> None:
    assert Decimal(str(sale["totalAmountWithTax"])) == cart.total_amount_with_tax
    assert [
        (t["taxCode"], Decimal(str(t["taxAmount"])), Decimal(str(t["targetAmount"])))
        for t in sale["taxes"]
    ] == [(t.tax_code, t.tax_amount, t.target_amount) for t in cart.taxes]
    assert [Decimal(str(line["amount"])) for line in sale["lineItems"]] == [
        line.amount for line in cart.line_items
    ]


async def _eventually(read, done, seconds: float = 60):
    deadline = asyncio.get_running_loop().time() + seconds
    while True:
        value = await read()
        if done(value):
            return value
        assert asyncio.get_running_loop().time() < deadline, value
        await asyncio.sleep(0.25)


async def test_a_store_day_with_a_till_selling_offline(stack):
    urls = {n: stack.url(n) for n in NAMES}
    rng = random.Random(27)
    async with httpx.AsyncClient(timeout=60) as client:
        shop = await open_shop(client, urls, terminals=2)
        till, online_till = shop.tills
        admin, t, s = shop.admin, shop.tenant_id, shop.store_code
        stock = shop.url("stock", f"/api/v1/tenants/{t}/stores/{s}/stock")
        for code in SOLD:
            r = await client.put(
                f"{stock}/{code}/update",
                json={"quantityChange": OPENING_STOCK, "updateType": "initial"},
                headers=admin,
            )
            assert_ok(r)
        terminal = shop.url("terminal", f"/api/v1/terminals/{till.terminal_id}")
        state = assert_ok(await client.get(terminal, headers=till.headers))["data"]
        session = {"businessDate": state["businessDate"], "openCounter": state["openCounter"]}

        # Before the outage: the store's data and a block of numbers.
        feed = FeedTill(client, shop, till)
        await feed.follow()
        assert {code for kind, code in feed.held if kind == "item"} >= set(SOLD)
        r = await client.post(
            f"{terminal}/offline-numbers", json={"size": 60}, headers=till.headers
        )
        block = assert_ok(r)["data"]
        numbers = iter(
            zip(
                range(block["transactionNoFrom"], block["transactionNoTo"] + 1),
                range(block["receiptNoFrom"], block["receiptNoTo"] + 1),
                strict=True,
            )
        )

        # Offline: 50 sales from the feed alone; half-way the back office raises a price.
        sales: list[dict[str, Any]] = []
        changed_at = None
        for n in range(OFFLINE_SALES):
            if n == OFFLINE_SALES // 2:
                await asyncio.sleep(0.05)
                item = feed.item(CHANGED)
                r = await client.put(
                    shop.url("master-data", f"/api/v1/tenants/{t}/items/{CHANGED}"),
                    json={
                        "description": item["description"],
                        "unitPrice": NEW_PRICE,
                        "unitCost": item["unitCost"],
                        "itemDetails": item["itemDetails"],
                        "imageUrls": item["imageUrls"],
                        "categoryCode": item["categoryCode"],
                        "taxCode": item["taxCode"],
                        "isDiscountRestricted": item["isDiscountRestricted"],
                    },
                    headers=admin,
                )
                assert_ok(r)
                changed_at = datetime.now(UTC)
                await asyncio.sleep(0.05)
            entries = [(code, rng.randint(1, 3)) for code in rng.sample(SOLD, rng.randint(1, 3))]
            if n in (3, OFFLINE_SALES - 3):
                entries = [(CHANGED, 2)]  # the changed item, before and after the change
            sale = feed.price(entries)
            _same_as_the_cart(sale, feed.oracle(entries))
            transaction_no, receipt_no = next(numbers)
            sale |= {
                "offlineId": f"{till.terminal_id}-{n:03}",
                "transactionNo": transaction_no,
                "receiptNo": receipt_no,
                "generateDateTime": datetime.now(UTC).isoformat(),
                **session,
            }
            sales.append(sale)
            await asyncio.sleep(0.002)
        assert changed_at is not None
        sales[TAMPERED]["totalAmountWithTax"] += 1
        sales[TAMPERED]["totalAmount"] += 1

        # The other till sells online meanwhile.
        online = Register(client, shop, online_till)
        online_sales = [await online.sale((code, 1)) for code in ("4901", "4905", "4902")]

        # Back online: the session's close first (its sales are not there: refused).
        taken = [sale for n, sale in enumerate(sales) if n != TAMPERED]
        session_upload = session | {
            "cashMoves": [
                {
                    "offlineId": "cash-1",
                    "amount": 1000,
                    "description": "change",
                    "generateDateTime": datetime.now(UTC).isoformat(),
                }
            ],
            "close": {
                "physicalAmount": OPENING_FLOAT
                + 1000
                + sum(x["totalAmountWithTax"] for x in taken),
                "transactionCount": len(taken),
                "lastTransactionNo": max(x["transactionNo"] for x in taken),
                "generateDateTime": datetime.now(UTC).isoformat(),
            },
        }
        r = await client.post(
            f"{terminal}/offline-session", json=session_upload, headers=till.headers
        )
        assert_error(r, 409, "406302")

        # The sales, in two batches, then all again: each taken once, the tampered rejected.
        upload = Register(client, shop, till).transactions_url("/offline")

        async def send(batch: list[dict[str, Any]]) -> list[dict[str, Any]]:
            r = await client.post(
                upload, json={"transactions": batch}, params=till.params, headers=till.headers
            )
            return assert_ok(r)["data"]

        first = await send(sales[:25]) + await send(sales[25:])
        second = await send(sales)
        for n, (a, b) in enumerate(zip(first, second, strict=True)):
            if n == TAMPERED:
                assert a["status"] == b["status"] == "rejected"
                assert a["reason"]["code"] == b["reason"]["code"] == "401104"
            else:
                assert (a["status"], b["status"]) == ("accepted", "duplicate"), (n, a, b)
                assert a["transactionNo"] == b["transactionNo"] == sales[n]["transactionNo"]

        # Now the close: applied after its sales, with the drawer the till counted.
        r = await client.post(
            f"{terminal}/offline-session", json=session_upload, headers=till.headers
        )
        closed = assert_ok(r)["data"]
        assert closed["closeStatus"] == "accepted" and closed["status"] == "Closed"
        assert closed["close"]["differenceAmount"] == 0
        online_terminal = shop.url("terminal", f"/api/v1/terminals/{online_till.terminal_id}")
        r = await client.post(
            f"{online_terminal}/close", json={"physicalAmount": 0}, headers=online_till.headers
        )
        assert_ok(r)

        # Discrepancies: the changed item's lines sold after the change, at the old price.
        cart_base = shop.url(
            "cart", f"/api/v1/tenants/{t}/stores/{s}/terminals/{till.terminal_no}/transactions"
        )
        r = await client.get(
            f"{cart_base}/offline/discrepancies", params={"limit": 100}, headers=admin
        )
        listed = assert_ok(r)["data"]
        listed = listed["data"] if isinstance(listed, dict) else listed
        expected = sorted(
            sale["transactionNo"]
            for sale in taken
            if datetime.fromisoformat(sale["generateDateTime"]) > changed_at
            and any(line["itemCode"] == CHANGED for line in sale["lineItems"])
        )
        assert sorted(d["transactionNo"] for d in listed) == expected
        assert {(d["itemCode"], d["soldPrice"], d["masterPrice"]) for d in listed} == {
            (CHANGED, 120.0, float(NEW_PRICE))
        }
        assert sales[3]["transactionNo"] not in expected  # sold before the change: no gap
        assert sales[OFFLINE_SALES - 3]["transactionNo"] in expected
        r = await client.get(f"{cart_base}/offline/rejections", headers=admin)
        rejected = assert_ok(r)["data"]
        rejected = rejected["data"] if isinstance(rejected, dict) else rejected
        assert [(x["offlineId"], x["reason"]["code"]) for x in rejected] == [
            (sales[TAMPERED]["offlineId"], "401104")
        ]

        # Journal: every accepted sale once; the tampered one never.
        journals = shop.url("journal", f"/api/v1/tenants/{t}/stores/{s}/journals")

        async def journal_sales() -> Counter[int]:
            params = {"terminals": till.terminal_no, "transaction_types": 101, "limit": 200}
            data = assert_ok(await client.get(journals, params=params, headers=admin))["data"]
            rows = data["data"] if isinstance(data, dict) else data
            return Counter(j["transactionNo"] for j in rows)

        wanted = Counter(sale["transactionNo"] for sale in taken)
        assert await _eventually(journal_sales, lambda got: got == wanted) == wanted

        # Stock: exactly what was sold, offline and online.
        sold: Counter[str] = Counter()
        for sale in taken:
            for line in sale["lineItems"]:
                sold[line["itemCode"]] += line["quantity"]
        for sale in online_sales:
            for line in sale["lineItems"]:
                sold[line["itemCode"]] += line["quantity"]

        async def levels() -> dict[str, float]:
            out = {}
            for code in SOLD:
                row = assert_ok(await client.get(f"{stock}/{code}", headers=admin))["data"]
                out[code] = row["currentQuantity"]
            return out

        want_levels = {code: OPENING_STOCK - sold[code] for code in SOLD}
        assert await _eventually(levels, lambda got: got == want_levels) == want_levels

        # The daily report: allowed once every sale of the closes arrived, and exact.
        reports = shop.url("report", f"/api/v1/tenants/{t}/stores/{s}/reports")
        daily = {"report_scope": "daily", "report_type": "sales"} | {
            "business_date": session["businessDate"]
        }

        async def report() -> httpx.Response:
            return await client.get(reports, params=daily, headers=admin)

        r = await _eventually(report, lambda r: r.status_code == 200)
        figures = assert_ok(r)["data"]
        assert figures["salesGross"]["count"] == len(taken) + len(online_sales)
        amount = sum(Decimal(str(x["totalAmountWithTax"])) for x in taken)
        amount += sum(Decimal(str(x["totalAmountWithTax"])) for x in online_sales)
        assert Decimal(str(figures["salesGross"]["amount"])) == amount
        flash = assert_ok(await client.get(reports, params=daily | {"report_scope": "flash"},
                                           headers=admin))["data"]  # fmt: skip
        assert flash["incompleteSessions"] == []

        # Back online, the till's delta brings the new price (and its copy is the master's).
        delta = await feed.follow()
        assert any(c["kind"] == "item" and c["key"] == CHANGED for c in delta)
        assert feed.item(CHANGED)["price"] == NEW_PRICE
        fresh = FeedTill(client, shop, till)
        await fresh.follow()
        assert fresh.held == feed.held
