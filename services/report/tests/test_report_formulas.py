"""The formulas of §3.7–§3.11 as pure functions over raw logs (no stack): the worked example
of §3.7 and every regression example of §3.7 and §4."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from kugelpos.report.figures import Selection, figures_from_logs
from kugelpos.report.plugins.base import ReportRequest
from kugelpos.report.plugins.registry import load_makers
from kugelpos.report.samples import discount, line, payment, tax, tran, worked_example

TZ = ZoneInfo("Asia/Tokyo")
T = "T1"
MAKERS = load_makers({"master_data": None})


async def report(logs, report_type: str = "sales", terminal: int | None = None) -> dict[str, Any]:
    pairs = (
        [(kind, log) for kind, log in logs]
        if logs and isinstance(logs[0], tuple)
        else [("tran", log) for log in logs]
    )
    request = ReportRequest(
        tenant_id=T, store_code="S1", terminal_no=terminal, business_date="20261201",
        business_date_from=None, business_date_to=None, open_counter=None,
        business_counter=None, report_scope="flash", report_type=report_type,
    )  # fmt: skip
    figures = figures_from_logs(pairs, Selection("S1", "20261201", "20261201", terminal), TZ)
    return await MAKERS[report_type].generate_report(request, figures)


def aqc(figure: dict) -> tuple:
    return figure["amount"], figure["quantity"], figure["count"]


async def test_worked_example_sales():
    data = await report(worked_example(T))
    assert aqc(data["salesGross"]) == (4700, 3, 2)
    assert aqc(data["returns"]) == (1100, 1, 1)
    assert aqc(data["discountForLineitems"]) == (0, 0, 0)
    assert aqc(data["discountForSubtotal"]) == (300, 2, 1)
    assert aqc(data["salesNet"]) == (3000, 2, 1)
    assert data["taxes"] == [
        {"taxName": "消費税10%", "taxAmount": 300, "targetAmount": 3000, "targetQuantity": 2}
    ]
    payments = {p["paymentName"]: (p["amount"], p["count"]) for p in data["payments"]}
    assert payments == {"現金": (900, 0), "クレジット": (2400, 2)}
    assert data["cash"] == {
        "logicalAmount": 11100,
        "physicalAmount": 11050,
        "differenceAmount": -50,
        "cashIn": {"amount": 10500, "count": 2},
        "cashOut": {"amount": -300, "count": 1},
    }
    # integrity: Σ payments = net + Σ taxes
    assert sum(p["amount"] for p in data["payments"]) == data["salesNet"]["amount"] + 300


async def test_worked_example_payment_report():
    data = await report(worked_example(T), "payment")
    summary = [
        (p["payment_code"], p["amount"], p["count"], p["ratio"]) for p in data["payment_summary"]
    ]
    assert summary == [("11", 2400, 2, 72.73), ("01", 900, 0, 27.27)]
    assert data["total"] == {"count": 2, "amount": 3300}


def sale(
    no, with_tax, tax_amount, *, type_=101, discount_total=0.0, taxes=None, payments=None, **kw
):
    return tran(
        T, no, type_=type_, with_tax=with_tax, discount_total=discount_total,
        taxes=taxes if taxes is not None else [tax("01", tax_amount)],
        payments=payments, **kw,
    )  # fmt: skip


async def test_issue_85_external_tax():
    lines = [line(1, unit_price=3800.0, discounts=[discount(500.0)])]
    logs = [
        sale(1, 3300.0, 300.0, discount_total=500.0, lines=lines),
        sale(2, 3300.0, 300.0, type_=102, discount_total=500.0, lines=lines),
    ]
    data = await report(logs)
    assert data["salesGross"]["amount"] == 3800
    assert data["returns"]["amount"] == 3300
    # v1 counts the line discount of the sale and of its return against each other.
    assert data["discountForLineitems"]["amount"] == 0
    assert data["discountForSubtotal"]["amount"] == 0
    assert data["salesNet"]["amount"] == 500


async def test_issue_85_internal_tax():
    lines = [line(1, unit_price=3500.0, discounts=[discount(500.0)])]
    logs = [
        sale(1, 3000.0, 273.0, discount_total=500.0, lines=lines),
        sale(2, 3000.0, 273.0, type_=102, discount_total=500.0, lines=lines),
    ]
    data = await report(logs)
    assert (data["salesGross"]["amount"], data["returns"]["amount"]) == (3500, 3000)
    assert data["salesNet"]["amount"] == 500


async def test_issue_90_internal_tax_deducted():
    data = await report([sale(1, 1100.0, 100.0)])
    assert (data["salesGross"]["amount"], data["salesNet"]["amount"]) == (1100, 1000)


async def test_issue_90_mixed():
    taxes = [tax("01", 100.0), tax("02", 100.0)]
    data = await report([sale(1, 2200.0, 0, taxes=taxes)])
    assert (data["salesGross"]["amount"], data["salesNet"]["amount"]) == (2200, 2000)


async def test_issue_90_two_internal_rates():
    taxes = [tax("08", 80.0, name="8%"), tax("10", 100.0, name="10%")]
    data = await report([sale(1, 2180.0, 0, taxes=taxes)])
    assert (data["salesGross"]["amount"], data["salesNet"]["amount"]) == (2180, 2000)
    assert sorted(t["taxAmount"] for t in data["taxes"]) == [80, 100]


async def test_issue_78_no_cartesian_product():
    logs = []
    for terminal, net in ((1, 1000.0), (2, 2000.0), (3, 3000.0)):
        taxes = [tax("01", net * 0.05), tax("02", net * 0.05)]
        pays = [payment("01", net * 0.55), payment("11", net * 0.55)]
        logs.append(sale(1, net * 1.1, 0, taxes=taxes, payments=pays, terminal=terminal))
    data = await report(logs)
    assert data["salesNet"]["amount"] == 6000
    assert data["salesNet"]["count"] == 3


async def test_issue_78_split():
    taxes = [tax("01", 200.0), tax("02", 200.0), tax("03", 100.0)]
    pays = [payment("11", 1100.0) for _ in range(5)]
    data = await report([sale(1, 5500.0, 0, taxes=taxes, payments=pays)])
    assert (data["salesNet"]["amount"], data["salesNet"]["count"]) == (5000, 1)


async def test_return_basic():
    data = await report([sale(1, 1100.0, 100.0), sale(2, 550.0, 50.0, type_=102)])
    assert (data["salesGross"]["amount"], data["returns"]["amount"]) == (1100, 550)
    assert data["salesNet"]["amount"] == 500
    assert [(p["amount"], p["count"]) for p in data["payments"]] == [(550, 0)]
    assert [t["taxAmount"] for t in data["taxes"]] == [50]


async def test_return_exceeds_sales():
    data = await report([sale(1, 1100.0, 100.0), sale(2, 1650.0, 150.0, type_=102)])
    assert data["returns"]["amount"] == 1650
    assert data["salesNet"]["amount"] == -500
    assert [(p["amount"], p["count"]) for p in data["payments"]] == [(-550, 0)]


async def test_void():
    data = await report([sale(1, 1100.0, 100.0), sale(2, 1100.0, 100.0, type_=201)])
    assert data["salesNet"]["amount"] == 0
    assert [(p["amount"], p["count"]) for p in data["payments"]] == [(0, 0)]


async def test_mixed():
    logs = [
        sale(1, 2180.0, 180.0),
        sale(2, 550.0, 50.0, type_=102),
        sale(3, 330.0, 30.0, type_=201),
    ]
    assert (await report(logs))["salesNet"]["amount"] == 1200


async def test_cancelled_sales_excluded():
    logs = [sale(1, 1000.0, 0), sale(2, 2000.0, 0, cancelled=True), sale(3, 3000.0, 0)]
    assert (await report(logs))["salesNet"]["amount"] == 4000


async def test_full_discount():
    lines = [line(1, unit_price=1000.0, discounts=[discount(1000.0)])]
    logs = [sale(1, 0.0, 0.0, discount_total=1000.0, lines=lines, payments=[payment("01", 0.0)])]
    data = await report(logs)
    assert data["salesGross"]["amount"] == 1000
    assert data["discountForLineitems"]["amount"] == 1000
    assert data["salesNet"]["amount"] == 0


async def test_payment_report_counts_distinct_transactions():
    logs = [
        sale(1, 1100.0, 0, payments=[payment("01", 1100.0)]),
        sale(2, 1500.0, 0, payments=[payment("01", 1500.0)]),
        sale(3, 2000.0, 0, payments=[payment("11", 1500.0), payment("11", 500.0)]),
        sale(4, 550.0, 0, type_=202, payments=[payment("01", 550.0)]),
        sale(5, 3000.0, 0, cancelled=True, payments=[payment("11", 3000.0)]),
        sale(6, 330.0, 0, type_=201, payments=[payment("11", 330.0)]),
    ]
    data = await report(logs, "payment")
    by_code = {p["payment_code"]: (p["amount"], p["count"]) for p in data["payment_summary"]}
    assert by_code == {"01": (3150, 3), "11": (1670, 0)}
    assert data["total"] == {"count": 3, "amount": 4820}


async def test_category_item_and_promotion_rules():
    lines = [
        line(1, "A", "C1", 500.0, 2, discounts=[discount(100.0, "P1", "bundle")]),
        line(2, "B", "C1", 300.0, 1),
        line(3, "X", "C2", 999.0, 5, cancelled=True),  # cancelled lines are excluded
        line(4, "D", "C2", 400.0, 1, allocated=[discount(40.0)]),
    ]
    logs = [
        sale(1, 1660.0, 0, lines=lines, terminal=1),
        sale(1, 1660.0, 0, lines=lines, terminal=2),  # same number, other terminal: distinct
        sale(2, 1660.0, 0, type_=201, lines=lines, terminal=2),
    ]
    category = await report(logs, "category")
    rows = {c["categoryCode"]: c for c in category["categories"]}
    assert list(rows) == ["C1", "C2"]  # sorted by code
    assert rows["C1"]["grossAmount"] == 1300  # unit price × quantity, not the line amount
    assert rows["C1"]["discountAmount"] == 100
    assert rows["C1"]["netAmount"] == 1200
    assert rows["C1"]["quantity"] == 3
    assert rows["C1"]["discountQuantity"] == 2
    assert rows["C1"]["transactionCount"] == 1  # 2 sales − 1 void, not 4 line rows
    assert rows["C2"]["grossAmount"] == 400 and rows["C2"]["discountAmount"] == 40
    assert category["totalNetAmount"] == 1560
    item = await report(logs, "item")
    c1 = item["categories"][0]
    assert [i["itemCode"] for i in c1["items"]] == ["A", "B"]
    assert c1["items"][0]["itemName"] == "Item A"  # the line's description (no master data)
    assert c1["categoryTotalNetAmount"] == 1200
    promotion = await report(logs, "promotion")
    assert promotion["promotions"] == [
        {
            "promotionCode": "P1", "promotionType": "bundle", "grossAmount": 1000,
            "discountAmount": 100, "netAmount": 900, "quantity": 2, "transactionCount": 1,
        }
    ]  # fmt: skip


async def test_null_amounts_count_zero():
    logs = [
        ("cash", {**worked_example(T)[1][1], "amount": None}),
        ("openclose", {**worked_example(T)[-1][1], "terminal_info": {"physical_amount": None}}),
    ]
    data = await report(logs)
    assert data["cash"]["physicalAmount"] == 0
    assert data["cash"]["cashIn"] == {"amount": 0, "count": 0}


async def test_hourly():
    logs = [
        sale(1, 1100.0, 100.0, time="2026-12-01T10:05:00+09:00"),
        sale(2, 2200.0, 200.0, time="2026-12-01T10:55:00+09:00"),
        sale(3, 550.0, 50.0, time="2026-12-01T02:30:00+00:00"),  # 11:30 in Tokyo
    ]
    data = await report(logs, "hourly")
    assert [(h["hour"], h["count"], h["netAmount"], h["averageAmount"]) for h in data["hours"]] == [
        (10, 2, 3000, 1500),
        (11, 1, 500, 500),
    ]
    assert data["totalCount"] == 3 and data["totalNetAmount"] == 3500
    assert data["averageAmount"] == 1166.67


async def test_returns_by_reason_in_the_sales_and_hourly_reports():
    """Issue 25: the returns line broken down by reason code (none: null), a blind return
    counted like the others and apart, the void of a return taking its reason's figures back."""

    def returned(no, with_tax, quantity, reason=None, *, blind=False, type_=102, time=None):
        log = sale(no, with_tax, with_tax / 11, type_=type_, quantity=quantity, time=time)
        if reason is not None:
            log["additional_info"] = {"return_reason_code": reason, "restock": reason != "DAMAGED"}
        if blind:
            log["blind"] = True
        return log

    t10, t11 = "2026-12-01T10:05:00+09:00", "2026-12-01T11:05:00+09:00"
    logs = [
        sale(1, 5500.0, 500.0, quantity=5, time=t10),
        returned(2, 1100.0, 1, "DAMAGED", time=t10),
        returned(3, 2200.0, 2, "DAMAGED", blind=True, time=t11),
        returned(4, 550.0, 1, "CHANGED", time=t11),
        returned(5, 550.0, 1, "CHANGED", type_=202, time=t11),  # its void
        returned(6, 330.0, 1, time=t11),  # a v1 return, no reason
    ]
    data = await report(logs)
    assert aqc(data["returns"]) == (3630, 4, 3)  # unchanged: 1100 + 2200 + 550 - 550 + 330
    assert data["returnsByReason"] == [
        {"reasonCode": None, "amount": 330, "quantity": 1, "count": 1, "blindCount": 0},
        {"reasonCode": "CHANGED", "amount": 0, "quantity": 0, "count": 0, "blindCount": 0},
        {"reasonCode": "DAMAGED", "amount": 3300, "quantity": 3, "count": 2, "blindCount": 1},
    ]
    total = sum(r["amount"] for r in data["returnsByReason"])
    assert total == data["returns"]["amount"]
    hourly = await report(logs, "hourly")
    by_hour = {h["hour"]: h["returnsByReason"] for h in hourly["hours"]}
    assert [(r["reasonCode"], r["count"]) for r in by_hour[10]] == [("DAMAGED", 1)]
    assert [(r["reasonCode"], r["amount"]) for r in by_hour[11]] == [
        (None, 330),
        ("CHANGED", 0),
        ("DAMAGED", 2200),
    ]


async def test_texts_are_32_columns_with_the_japanese_layout():
    from kugelpos.common.receipts import width_of
    from kugelpos.report.texts import render

    for report_type in ("sales", "category", "item", "payment", "promotion", "hourly"):
        data = await report(worked_example(T), report_type, terminal=1)
        request = ReportRequest(
            tenant_id=T, store_code="S1", terminal_no=1, business_date="20261201",
            business_date_from=None, business_date_to=None, open_counter=1,
            business_counter=3, report_scope="daily", report_type=report_type,
            generate_date_time="2026-12-01T21:00:00+09:00",
        )  # fmt: skip
        receipt, journal = render(MAKERS[report_type], request, data)
        lines = journal.splitlines()
        assert all(width_of(text) == 32 for text in lines), report_type
        assert "( 日報 )" in journal and "開設回数 1" in journal and "精算通番 3" in journal
        assert lines[-1].startswith("レシートNo.")
        assert receipt.startswith("<PrintData>")
    sales = await report(worked_example(T), "sales", terminal=1)
    _, journal = render(MAKERS["sales"], request, sales)
    for label in ("総売上", "返品", "明細値引", "小計値引", "純売上", "ドロア内現金", "過不足"):
        assert label in journal


def test_a_new_report_type_is_one_class_and_one_entry(tmp_path):
    import json

    module = tmp_path / "my_reports.py"
    module.write_text(
        "from kugelpos.report.plugins.base import ReportMaker\n"
        "class CountReport(ReportMaker):\n"
        "    def __init__(self, label):\n"
        "        self.label = label\n"
        "    async def generate_report(self, request, figures):\n"
        "        return {'label': self.label, 'sales': figures.get('t|101|n')}\n"
    )
    registry = tmp_path / "plugins.json"
    registry.write_text(
        json.dumps(
            {"report_makers": {"count": {"module": "my_reports", "class": "CountReport",
                                         "args": ["<label>"]}}}
        )
    )  # fmt: skip
    import sys

    sys.path.insert(0, str(tmp_path))
    try:
        makers = load_makers({"label": "hello"}, registry)
    finally:
        sys.path.remove(str(tmp_path))
    assert list(makers) == ["count"] and makers["count"].label == "hello"


async def test_stored_value_sold_redeemed_and_credited():
    """Issue 26: a gift card of 5000 sold for cash; a sale of 1100 paid 1000 by card and 100
    cash; a return of 550 onto store credit; the card sale voided: sold 0 (5000 − 5000),
    redeemed 1000, credited 550; the card payment is also in `payments` by its code."""
    gift = {**line(1, "GIFT", "009", 5000.0), "is_stored_value": True, "card_no": "*" * 12}
    sold = tran(T, 1, with_tax=5000.0, lines=[gift], payments=[payment("01", 5000.0)])
    by_card = {**payment("21", 1000.0, "Gift card"), "hold_id": "h1", "card_no": "*" * 12}
    paid = tran(T, 2, lines=[line(1)], payments=[by_card, payment("01", 100.0)])
    credit = {**payment("21", 550.0, "Gift card"), "card_load_id": "L1"}
    returned = tran(T, 3, type_=102, with_tax=550.0, lines=[line(1, unit_price=500.0)],
                    payments=[credit])  # fmt: skip
    voided = tran(T, 4, type_=201, with_tax=5000.0, lines=[gift], payments=[payment("01", 5000.0)])
    data = await report([sold, paid, returned, voided])
    assert data["storedValue"] == {
        "sold": {"amount": 0, "count": 0},
        "redeemed": {"amount": 1000, "count": 1},
        "credited": {"amount": 550, "count": 1},
    }
    one = await report([sold])
    assert one["storedValue"]["sold"] == {"amount": 5000, "count": 1}
    payments = {p["paymentName"]: p["amount"] for p in data["payments"]}
    assert payments["Gift card"] == 1000 - 550
