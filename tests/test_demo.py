"""`make demo` on a fresh stack: the demo tenant is built through the APIs, a second run reuses
it and changes nothing, the summary holds what a newcomer needs next, and the reports it prints
agree with the demo's own sales."""

from __future__ import annotations

import io
import time
from collections import Counter
from typing import Any

import httpx

from kugelpos.devstack import pos
from kugelpos.devstack.demo import CATEGORIES, demo_items, figure_row, run_demo
from kugelpos.registry.services import SERVICES


async def test_demo_builds_a_tenant_and_a_second_run_reuses_it(stack, tmp_path):
    urls = {spec.name: stack.url(spec.name) for spec in SERVICES}
    demo_file = tmp_path / "demo.json"
    first_out = io.StringIO()
    demo, reused = await run_demo(urls, demo_file, first_out)
    assert not reused and demo_file.is_file()
    text = first_out.getvalue()
    assert demo["admin"]["password"] in text
    assert all(t["apiKey"] in text for t in demo["terminals"])
    assert urls["cart"] in text and "Daily report" in text
    if "report" not in urls:
        assert "report is skipped" in text
    # A gift card to try (issue 26): issued at stored value, printed whole this once.
    assert demo["giftCard"] and f"Gift card {demo['giftCard']}" in text

    # Tax kinds: exempt (00), external (01/11) and internal (02/12) all present.
    taxes = {item.tax_code for item in demo_items()}
    assert "00" in taxes and taxes & {"01", "11"} and taxes & {"02", "12"}
    assert len(demo_items()) >= 24 and len(CATEGORIES) >= 3

    tenant, store = demo["tenantId"], demo["storeCode"]
    async with httpx.AsyncClient(timeout=30) as client:
        admin_token = await client.post(
            f"{urls['account']}/api/v1/accounts/token",
            data={"username": "admin", "password": demo["admin"]["password"], "client_id": tenant},
        )
        admin = {"Authorization": f"Bearer {admin_token.json()['access_token']}"}
        r = await client.get(
            f"{urls['master-data']}/api/v1/tenants/{tenant}/items",
            headers=admin,
            params={"limit": 100},
        )
        assert r.status_code == 200 and len(r.json()["data"]) == len(demo_items()) + 1  # + GIFT
        # The day closed on both terminals, so the daily report can be printed.
        first, opened = demo["terminals"]
        for till in (first, opened):
            r = await client.get(
                f"{urls['terminal']}/api/v1/terminals/{till['terminalId']}",
                headers={"X-API-KEY": till["apiKey"]},
                params={"terminal_id": till["terminalId"]},
            )
            assert r.json()["data"]["status"] == "Closed"
        r = await client.get(
            f"{urls['cart']}/api/v1/tenants/{tenant}/stores/{store}/terminals/2/transactions",
            headers={"X-API-KEY": opened["apiKey"]},
            params={"terminal_id": opened["terminalId"], "limit": 0},
        )
        kinds = sorted(t["transactionType"] for t in r.json()["data"])
        assert kinds.count(101) == 2 and 102 in kinds and 201 in kinds, kinds

    second_out = io.StringIO()
    again, reused = await run_demo(urls, demo_file, second_out)
    assert reused and again == demo
    assert "reused" in second_out.getvalue()


# ---- the reports the demo prints (issue 23) -------------------------------------------------

SIGN = {101: 1, 102: -1, 201: -1, 202: 1}  # report-journal-events §3.6


def _expected_rows(
    transactions: list[dict[str, Any]], opening_floats: int, partial_of: int | None = None
) -> list[str]:
    """The sales report's lines recomputed from the demo's transactions as the cart recorded
    them (§3.7), formatted as the demo prints them; the returns by reason (issue 25): the
    partial return of sale `partial_of` is the demo's one return with a reason (CHANGED)."""
    by_reason: dict[str, list] = {}
    for t in transactions:
        if t["transactionType"] == 102:
            origin = t.get("origin") or {}
            reason = "CHANGED" if origin.get("transactionNo") == partial_of else "(no reason)"
            row = by_reason.setdefault(reason, [0, 0, 0.0])
            row[0] += 1
            row[1] += t["totalQuantity"]
            row[2] += t["totalAmountWithTax"]
    n: Counter[int] = Counter()
    amount: Counter[int] = Counter()
    quantity: Counter[int] = Counter()
    line = {"count": 0, "quantity": 0, "amount": 0.0}
    subtotal = {"count": 0, "quantity": 0, "amount": 0.0}
    tax = cash = 0.0
    cash_count = 0
    for t in transactions:
        kind, f = t["transactionType"], SIGN[t["transactionType"]]
        n[kind] += 1
        amount[kind] += t["totalAmountWithTax"] + (
            t["totalDiscountAmount"] if kind in (101, 201) else 0
        )
        quantity[kind] += t["totalQuantity"]
        for item in t["lineItems"]:
            if item["discounts"]:
                line["quantity"] += f * item["quantity"]
            for discount in item["discounts"]:
                line["count"] += f
                line["amount"] += f * discount["discountAmount"]
        for discount in t["subtotalDiscounts"]:
            subtotal["count"] += f
            subtotal["amount"] += f * discount["discountAmount"]
        tax += f * sum(x["taxAmount"] for x in t["taxes"])
        for payment in t["payments"]:
            assert payment["paymentCode"] == "01"  # the demo pays cash only
            cash += f * payment["paymentAmount"]
            cash_count += f
    gross = (n[101] - n[201], quantity[101] - quantity[201], amount[101] - amount[201])
    returns = (n[102] - n[202], quantity[102] - quantity[202], amount[102] - amount[202])
    net = gross[2] - returns[2] - line["amount"] - subtotal["amount"] - tax
    return [
        figure_row("gross sales", *gross),
        figure_row("returns", *returns),
        *(figure_row(f"  {reason}", *by_reason[reason]) for reason in sorted(by_reason)),
        figure_row("line discounts", line["count"], line["quantity"], line["amount"]),
        figure_row(
            "subtotal discounts", subtotal["count"], subtotal["quantity"], subtotal["amount"]
        ),
        figure_row("net sales", gross[0] - returns[0], gross[1] - returns[1], net),
        figure_row("tax", amount=tax),
        figure_row("paid Cash", cash_count, "", cash),
        f"  cash in drawers: expected {opening_floats + cash:,.0f}, counted "
        f"{opening_floats + cash:,.0f}, difference 0",
    ]


def _block(text: str, title: str) -> list[str]:
    """The lines printed under a report's title, up to the next unindented line."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(title))
    assert lines[start].endswith(":"), lines[start]  # printed, not refused
    block = []
    for line in lines[start + 1 :]:
        if not line.startswith("  "):
            break
        block.append(line)
    return block


async def test_demo_prints_flash_and_daily_reports_that_agree_with_its_sales(stack, tmp_path):
    urls = {spec.name: stack.url(spec.name) for spec in SERVICES}
    demo_file = tmp_path / "demo.json"
    out = io.StringIO()
    demo, _ = await run_demo(urls, demo_file, out)
    text = out.getvalue()

    tenant, store, day = demo["tenantId"], demo["storeCode"], demo["businessDate"]
    transactions = []
    async with httpx.AsyncClient(timeout=30) as client:
        for till in demo["terminals"]:
            r = await client.get(
                f"{urls['cart']}/api/v1/tenants/{tenant}/stores/{store}/terminals/"
                f"{till['terminalNo']}/transactions",
                headers={"X-API-KEY": till["apiKey"]},
                params={"terminal_id": till["terminalId"], "limit": 0},
            )
            transactions += r.json()["data"]
    assert {t["businessDate"] for t in transactions} == {day}
    # The demo's day: five sales, a return, a partial return and a void, nothing cancelled.
    kinds = Counter(t["transactionType"] for t in transactions)
    assert kinds == {101: len(demo["sales"]), 102: 2, 201: 1}
    partial = next(
        t
        for t in transactions
        if (t.get("origin") or {}).get("transactionNo") == demo["partialReturnOf"]
    )
    assert partial["totalQuantity"] == 1 and [x["lineNo"] for x in partial["lineItems"]] == [1]
    expected = _expected_rows(
        transactions, pos.OPENING_FLOAT * len(demo["terminals"]), demo["partialReturnOf"]
    )
    assert "  CHANGED" in "\n".join(expected)

    assert f"Sales report of store {store}, business date {day}" in text
    assert _block(text, "Flash report") == expected
    assert _block(text, "Daily report") == expected

    # Run again: the same reports, nothing changed.
    again = io.StringIO()
    await run_demo(urls, demo_file, again)
    assert _block(again.getvalue(), "Flash report") == expected
    assert _block(again.getvalue(), "Daily report") == expected

    # A newcomer opens a terminal again: the flash report still prints, the daily one is
    # refused at once (no wait for logs that cannot come) with the report service's reason.
    till = demo["terminals"][1]
    async with httpx.AsyncClient(timeout=30) as client:
        r = await client.post(
            f"{urls['terminal']}/api/v1/terminals/{till['terminalId']}/open",
            headers={"X-API-KEY": till["apiKey"]},
            json={"initialAmount": pos.OPENING_FLOAT},
        )
        assert r.status_code == 200, r.text
    reopened = io.StringIO()
    started = time.monotonic()
    await run_demo(urls, demo_file, reopened)
    assert time.monotonic() - started < 20
    printed = reopened.getvalue()
    assert _block(printed, "Flash report")[:2] == expected[:2]
    assert "Daily report (the day closed on every terminal): refused, 403 412101" in printed
    assert f"waits until {till['terminalId']} closes again" in printed
    assert f"{till['terminalId']}  X-API-KEY: {till['apiKey']}  (opened)" in printed
    assert "/open'" not in printed  # the terminal to try a cart on is open already
