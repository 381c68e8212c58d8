"""The built-in report types (§3.7–§3.11, and hourly). Each is a plugin like any other."""

from __future__ import annotations

from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from kugelpos.common.receipts import BORDER, Line, comma, left, split, yen

from ..figures import (
    CATEGORY,
    CORE,
    ITEM,
    PROMOTION,
    RETURN,
    SALE,
    VOID_RETURN,
    VOID_SALE,
    Figures,
    amount,
    unescape,
)
from .base import ReportMaker, ReportRequest

ZERO = Decimal(0)
CENT = Decimal("0.01")


def num(value: Decimal) -> float:
    """A JSON float (the v1 `amount: float`), exact for up to 15 significant digits."""
    return float(value)


def _group(figures: Figures | dict[str, int], prefix: str, depth: int) -> dict[tuple, dict]:
    """`prefix|k1|…|kdepth|field` counters → {(k1..kdepth): {field: value}}."""
    counters = figures.counters if isinstance(figures, Figures) else figures
    groups: dict[tuple, dict[str, int]] = defaultdict(dict)
    head = prefix + "|"
    for key, value in counters.items():
        if not key.startswith(head):
            continue
        parts = key[len(head) :].split("|")
        if len(parts) != depth + 1:
            continue
        groups[tuple(unescape(p) for p in parts[:depth])][parts[depth]] = value
    return groups


def _has_any(values: dict[str, int]) -> bool:
    return any(values.values())


def sort_rows(rows: list[dict[str, Any]], sort: str | None) -> list[dict[str, Any]]:
    """A `field:dir,...` sort stage over rows; fields the rows do not have are ignored (the
    v1 default `store_code:1` matches nothing, so the report's own order stays)."""
    if not sort:
        return rows
    for part in reversed([p for p in sort.split(",") if p.strip()]):
        name, _, direction = part.strip().partition(":")
        key = _camel(name.strip())
        if not rows or key not in rows[0]:
            continue
        rows = sorted(rows, key=lambda r: (r[key] is None, r[key]), reverse=direction == "-1")
    return rows


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(p[:1].upper() + p[1:] for p in rest)


def page_of(rows: list, limit: int, page: int) -> list:
    if limit <= 0:
        return rows
    start = (max(page, 1) - 1) * limit
    return rows[start : start + limit]


# ---- sales ---------------------------------------------------------------------------------


def sales_figures(counters: dict[str, int]) -> dict[str, Any]:
    """§3.7 formulas over summed counters (Decimal throughout)."""

    def t(type_: int, field: str) -> int:
        return counters.get(f"t|{type_}|{field}", 0)

    def a(type_: int, field: str) -> Decimal:
        return amount(t(type_, field))

    gross_amount = (a(SALE, "a") + a(SALE, "d")) - (a(VOID_SALE, "a") + a(VOID_SALE, "d"))
    gross_q = t(SALE, "q") - t(VOID_SALE, "q")
    gross_c = t(SALE, "n") - t(VOID_SALE, "n")
    returns_amount = a(RETURN, "a") - a(VOID_RETURN, "a")
    returns_q = t(RETURN, "q") - t(VOID_RETURN, "q")
    returns_c = t(RETURN, "n") - t(VOID_RETURN, "n")
    line = (amount(counters.get("ld|a", 0)), counters.get("ld|q", 0), counters.get("ld|c", 0))
    sub = (amount(counters.get("sd|a", 0)), counters.get("sd|q", 0), counters.get("sd|c", 0))
    net_tax = (a(SALE, "x") - a(VOID_SALE, "x")) - (a(RETURN, "x") - a(VOID_RETURN, "x"))
    net_amount = gross_amount - returns_amount - line[0] - sub[0] - net_tax
    return {
        "gross": (gross_amount, gross_q, gross_c),
        "returns": (returns_amount, returns_q, returns_c),
        "line": line,
        "subtotal": sub,
        "net_tax": net_tax,
        "net": (net_amount, gross_q - returns_q, gross_c - returns_c),
    }


def returns_by_reason(counters: dict[str, int]) -> list[dict[str, Any]]:
    """Returns less voided returns per reason code (null: no reason), by code; blind returns
    count like the others and are also counted apart (`blindCount`)."""
    rows = []
    for (code,), v in sorted(_group(counters, "rr", 1).items()):
        rows.append(
            {
                "reasonCode": code or None,
                "amount": num(amount(v.get("a", 0))),
                "quantity": v.get("q", 0),
                "count": v.get("n", 0),
                "blindCount": v.get("b", 0),
            }
        )
    return rows


def _aqc(values: tuple[Decimal, int, int]) -> dict[str, Any]:
    return {"amount": num(values[0]), "quantity": values[1], "count": values[2]}


class SalesReportMaker(ReportMaker):
    title = "【 売 上 レ ポ ー ト 】"
    families = frozenset((CORE,))
    per_hour = False

    async def generate_report(self, request: ReportRequest, figures: Figures) -> dict[str, Any]:
        s = sales_figures(figures.counters)
        taxes = [
            {
                "taxName": figures.names.get(f"tax|{code[0]}", code[0]),
                "taxAmount": num(amount(v.get("a", 0))),
                "targetAmount": num(amount(v.get("t", 0))),
                "targetQuantity": v.get("q", 0),
            }
            for code, v in sorted(_group(figures, "tax", 1).items())
        ]
        payments = []
        cash_payments = ZERO
        for (code,), v in sorted(_group(figures, "pay", 1).items()):
            value = amount(v.get("a", 0))
            if code == "01":
                cash_payments = value
            payments.append(
                {
                    "paymentName": figures.names.get(f"pay|{code}", code),
                    "amount": num(value),
                    "count": v.get("e", 0),  # sales rule: payment entries (§3.7)
                }
            )
        cash_in = amount(figures.get("cash|in|a"))
        cash_out = amount(figures.get("cash|out|a"))
        logical = cash_payments + cash_in + cash_out
        physical = amount(figures.get("cash|phys|a"))
        return {
            **request.header(),
            "salesGross": _aqc(s["gross"]),
            "salesNet": _aqc(s["net"]),
            "discountForLineitems": _aqc(s["line"]),
            "discountForSubtotal": _aqc(s["subtotal"]),
            "returns": _aqc(s["returns"]),
            # Beside v1 (issue 25): the returns line by return reason.
            "returnsByReason": returns_by_reason(figures.counters),
            "taxes": taxes,
            "payments": payments,
            # Beside v1 (issue 26): gift cards sold (counted in the sales above too, as items
            # of their category), paid with (in `payments` by their code too) and store credit
            # refunded onto, each less its voids.
            "storedValue": {
                kind: {
                    "amount": num(amount(figures.get(f"sv|{kind}|a"))),
                    "count": figures.get(f"sv|{kind}|n"),
                }
                for kind in ("sold", "redeemed", "credited")
            },
            "cash": {
                "logicalAmount": num(logical),
                "physicalAmount": num(physical),
                "differenceAmount": num(physical - logical),
                "cashIn": {"amount": num(cash_in), "count": figures.get("cash|in|n")},
                "cashOut": {"amount": num(cash_out), "count": figures.get("cash|out|n")},
            },
            "receiptText": "",
            "journalText": "",
        }

    def body_lines(self, request: ReportRequest, data: dict[str, Any]) -> list[Line]:
        def row(label: str, figure: dict[str, Any], negative: bool = False) -> list[Line]:
            value = -figure["amount"] if negative else figure["amount"]
            return [
                split(label, yen(value)),
                split(f"  {comma(figure['count'])}件", f"{comma(figure['quantity'])}点"),
            ]

        tax_total = sum(t["taxAmount"] for t in data["taxes"])
        lines = [left("売上合計"), *row("総売上", data["salesGross"])]
        lines += row("返品", data["returns"], negative=True)
        for r in data.get("returnsByReason") or []:
            lines += [
                split(f"  {r['reasonCode'] or '理由なし'}", yen(-r["amount"])),
                split(f"    {comma(r['count'])}件", f"{comma(r['quantity'])}点"),
            ]
        lines += row("明細値引", data["discountForLineitems"], negative=True)
        lines += row("小計値引", data["discountForSubtotal"], negative=True)
        lines += [split("税額", yen(-tax_total)), *row("純売上", data["salesNet"]), BORDER]
        lines.append(left("税額（内訳）"))
        lines += [split(t["taxName"], yen(t["taxAmount"])) for t in data["taxes"]]
        lines += [BORDER, left("支払")]
        for p in data["payments"]:
            lines += [split(p["paymentName"], yen(p["amount"])), split("", f"{p['count']}件")]
        cash = data["cash"]
        lines += [BORDER, left("入出金")]
        lines += [
            split(f"入金 {cash['cashIn']['count']}件", yen(cash["cashIn"]["amount"])),
            split(f"出金 {cash['cashOut']['count']}件", yen(cash["cashOut"]["amount"])),
            BORDER,
            left("現金"),
            split("ドロア内現金", yen(cash["physicalAmount"])),
            split("あるべき現金", yen(cash["logicalAmount"])),
            split("過不足", yen(cash["differenceAmount"])),
        ]
        return lines

    def csv_rows(self, data: dict[str, Any]) -> tuple[list[str], list[list[Any]]]:
        header = ["section", "name", "amount", "quantity", "count"]
        rows: list[list[Any]] = []
        for key in ("salesGross", "returns", "discountForLineitems", "discountForSubtotal"):
            f = data[key]
            rows.append(["sales", key, f["amount"], f["quantity"], f["count"]])
        for r in data.get("returnsByReason") or []:
            rows.append(
                ["returnReason", r["reasonCode"] or "", r["amount"], r["quantity"], r["count"]]
            )
        f = data["salesNet"]
        rows.append(["sales", "salesNet", f["amount"], f["quantity"], f["count"]])
        for t in data["taxes"]:
            rows.append(["tax", t["taxName"], t["taxAmount"], t["targetQuantity"], ""])
        for p in data["payments"]:
            rows.append(["payment", p["paymentName"], p["amount"], "", p["count"]])
        cash = data["cash"]
        rows.append(["cash", "cashIn", cash["cashIn"]["amount"], "", cash["cashIn"]["count"]])
        rows.append(["cash", "cashOut", cash["cashOut"]["amount"], "", cash["cashOut"]["count"]])
        for key in ("logicalAmount", "physicalAmount", "differenceAmount"):
            rows.append(["cash", key, cash[key], "", ""])
        return header, rows


# ---- category / item -----------------------------------------------------------------------

_LINE_FIELDS = (
    "grossAmount",
    "discountAmount",
    "netAmount",
    "quantity",
    "discountQuantity",
    "transactionCount",
)


def _line_figures(v: dict[str, int]) -> dict[str, Any]:
    gross, discount = amount(v.get("g", 0)), amount(v.get("d", 0))
    return {
        "grossAmount": num(gross),
        "discountAmount": num(discount),
        "netAmount": num(gross - discount),
        "quantity": v.get("q", 0),
        "discountQuantity": v.get("dq", 0),
        "transactionCount": v.get("x", 0),
    }


def _totals(rows: list[dict[str, Any]], prefix: str = "total") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in _LINE_FIELDS:
        key = prefix + name[0].upper() + name[1:]
        total = sum((Decimal(repr(r[name])) for r in rows), ZERO)
        out[key] = num(total) if "Amount" in name else int(total)
    return out


class NamesMixin:
    def __init__(self, master_data: Any = None, **_: Any) -> None:
        self.master_data = master_data

    async def names(self, request: ReportRequest, kind: str) -> dict[str, str]:
        if self.master_data is None:
            return {}
        return await self.master_data.names(request.tenant_id, kind)


class CategoryReportMaker(NamesMixin, ReportMaker):
    title = "【分類別売上レポート】"
    families = frozenset((CATEGORY,))
    per_hour = False

    async def generate_report(self, request: ReportRequest, figures: Figures) -> dict[str, Any]:
        names = await self.names(request, "categories")
        rows = [
            {"categoryCode": code, "categoryName": names.get(code) or code, **_line_figures(v)}
            for (code,), v in sorted(_group(figures, "cat", 1).items())
            if _has_any(v)
        ]
        rows = page_of(sort_rows(rows, request.sort), request.limit, request.page)
        return {
            **request.header(),
            "categories": rows,
            **_totals(rows),
            "receiptText": "",
            "journalText": "",
        }

    def body_lines(self, request: ReportRequest, data: dict[str, Any]) -> list[Line]:
        lines: list[Line] = []
        for c in data["categories"]:
            lines += [
                left(f"{c['categoryCode']} {c['categoryName']}"),
                split(f"  {c['quantity']}点", yen(c["netAmount"])),
            ]
        lines += [BORDER, split(f"合計 {data['totalQuantity']}点", yen(data["totalNetAmount"]))]
        return lines

    def csv_rows(self, data: dict[str, Any]) -> tuple[list[str], list[list[Any]]]:
        header = ["categoryCode", "categoryName", *_LINE_FIELDS]
        return header, [[c[h] for h in header] for c in data["categories"]]


class ItemReportMaker(NamesMixin, ReportMaker):
    """Item names: master data's item `description`, else the line's description, else the
    code. All items are returned (v1 ignores paging here too)."""

    title = "【商品別売上レポート】"
    families = frozenset((ITEM,))
    per_hour = False

    async def generate_report(self, request: ReportRequest, figures: Figures) -> dict[str, Any]:
        category_names = await self.names(request, "categories")
        item_names = await self.names(request, "items")
        by_category: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for (cat, item), v in sorted(_group(figures, "item", 2).items()):
            if not _has_any(v):
                continue
            name = item_names.get(item) or figures.names.get(f"item|{item}") or item
            by_category[cat].append({"itemCode": item, "itemName": name, **_line_figures(v)})
        categories = []
        for cat in sorted(by_category):
            items = sort_rows(by_category[cat], request.sort)
            categories.append(
                {
                    "categoryCode": cat,
                    "categoryName": category_names.get(cat) or cat,
                    "items": items,
                    **_totals(items, "categoryTotal"),
                }
            )
        totals = _totals([item for c in categories for item in c["items"]])
        return {
            **request.header(),
            "categories": categories,
            **totals,
            "receiptText": "",
            "journalText": "",
        }

    def body_lines(self, request: ReportRequest, data: dict[str, Any]) -> list[Line]:
        lines: list[Line] = []
        for c in data["categories"]:
            lines.append(left(f"{c['categoryCode']} {c['categoryName']}"))
            for i in c["items"]:
                lines += [
                    left(f" {i['itemName']}"),
                    split(f"  {i['quantity']}点", yen(i["netAmount"])),
                ]
        lines += [BORDER, split(f"合計 {data['totalQuantity']}点", yen(data["totalNetAmount"]))]
        return lines

    def csv_rows(self, data: dict[str, Any]) -> tuple[list[str], list[list[Any]]]:
        header = ["categoryCode", "categoryName", "itemCode", "itemName", *_LINE_FIELDS]
        rows = [
            [c["categoryCode"], c["categoryName"], *[i[h] for h in header[2:]]]
            for c in data["categories"]
            for i in c["items"]
        ]
        return header, rows


# ---- payment --------------------------------------------------------------------------------

FIXED_PAYMENT_NAMES = {"01": "Cash", "11": "Cashless", "12": "Others"}


class PaymentReportMaker(NamesMixin, ReportMaker):
    """v1 shape, snake_case. Count = distinct transactions per code, signed (a split payment
    counts once), unlike the sales report's payments (entries)."""

    title = "【 決済別レポート 】"
    families = frozenset((CORE,))
    per_hour = False
    receipt_key = "receipt_text"
    journal_key = "journal_text"

    async def generate_report(self, request: ReportRequest, figures: Figures) -> dict[str, Any]:
        names = await self.names(request, "payments") or FIXED_PAYMENT_NAMES
        groups = [
            (code, amount(v.get("a", 0)), v.get("x", 0))
            for (code,), v in sorted(_group(figures, "pay", 1).items())
            if _has_any(v)
        ]
        total_amount = sum((g[1] for g in groups), ZERO)
        summary = []
        for code, value, count in groups:
            ratio = (
                float((value / total_amount * 100).quantize(CENT, rounding=ROUND_HALF_UP))
                if total_amount > 0
                else 0.0
            )
            summary.append(
                {
                    "payment_code": code,
                    "payment_name": names.get(code) or f"Payment {code}",
                    "count": count,
                    "amount": num(value),
                    "ratio": ratio,
                }
            )
        summary.sort(key=lambda s: (-s["amount"], s["payment_code"]))
        return {
            "shard_key": None,
            "created_at": None,
            "updated_at": None,
            "etag": None,
            "tenant_id": request.tenant_id,
            "store_code": request.store_code,
            "store_name": None,
            "terminal_no": request.terminal_no,
            "business_date": request.business_date,
            "business_date_from": request.business_date_from,
            "business_date_to": request.business_date_to,
            "open_counter": request.open_counter,
            "business_counter": request.business_counter,
            "report_scope": request.report_scope,
            "report_type": request.report_type,
            "payment_summary": summary,
            "total": {"count": sum(g[2] for g in groups), "amount": num(total_amount)},
            "receipt_text": "",
            "journal_text": "",
            "generate_date_time": request.generate_date_time,
            "staff": None,
        }

    def body_lines(self, request: ReportRequest, data: dict[str, Any]) -> list[Line]:
        lines: list[Line] = []
        for p in data["payment_summary"]:
            lines += [
                split(p["payment_name"], yen(p["amount"])),
                split(f"  {p['count']}件", f"{p['ratio']}%"),
            ]
        total = data["total"]
        lines += [BORDER, split(f"合計 {total['count']}件", yen(total["amount"]))]
        return lines

    def csv_rows(self, data: dict[str, Any]) -> tuple[list[str], list[list[Any]]]:
        header = ["payment_code", "payment_name", "count", "amount", "ratio"]
        return header, [[p[h] for h in header] for p in data["payment_summary"]]


# ---- promotion ------------------------------------------------------------------------------

_PROMO_FIELDS = ("grossAmount", "discountAmount", "netAmount", "quantity", "transactionCount")


class PromotionReportMaker(ReportMaker):
    """Line discounts with a promotion code; default order discount descending."""

    title = "【プロモーションレポート】"
    families = frozenset((PROMOTION,))
    per_hour = False

    def __init__(self, **_: Any) -> None:
        pass

    async def generate_report(self, request: ReportRequest, figures: Figures) -> dict[str, Any]:
        rows = []
        for (code, kind), v in sorted(_group(figures, "promo", 2).items()):
            if not _has_any(v):
                continue
            line = _line_figures(v)
            rows.append(
                {
                    "promotionCode": code,
                    "promotionType": kind or None,
                    **{k: line[k] for k in _PROMO_FIELDS},
                }
            )
        rows.sort(key=lambda r: (-r["discountAmount"], r["promotionCode"]))
        rows = page_of(sort_rows(rows, request.sort), request.limit, request.page)
        totals = {k: v for k, v in _totals_promo(rows).items()}
        return {
            **request.header(),
            "promotions": rows,
            **totals,
            "receiptText": "",
            "journalText": "",
        }

    def body_lines(self, request: ReportRequest, data: dict[str, Any]) -> list[Line]:
        lines = [
            split(f"{p['promotionCode']}: {p['quantity']}点", yen(-p["discountAmount"]))
            for p in data["promotions"]
        ]
        lines += [
            BORDER,
            split("値引合計", yen(-data["totalDiscountAmount"])),
            split("点数", f"{data['totalQuantity']}点"),
        ]
        return lines

    def csv_rows(self, data: dict[str, Any]) -> tuple[list[str], list[list[Any]]]:
        header = ["promotionCode", "promotionType", *_PROMO_FIELDS]
        return header, [[p[h] for h in header] for p in data["promotions"]]


def _totals_promo(rows: list[dict[str, Any]]) -> dict[str, Any]:
    totals = _totals([{**r, "discountQuantity": 0} for r in rows])
    totals.pop("totalDiscountQuantity")
    return totals


# ---- hourly ---------------------------------------------------------------------------------


class HourlyReportMaker(ReportMaker):
    """Per hour of the app time zone (of each log's `generate_date_time`): count, gross, net,
    quantity of sales (the §3.7 figures of that hour) and the average basket = net / count,
    rounded half-up to 2 decimals (0 when count ≤ 0). Hours without sales are omitted."""

    title = "【 時間帯別レポート 】"
    families = frozenset((CORE,))
    per_hour = True

    async def generate_report(self, request: ReportRequest, figures: Figures) -> dict[str, Any]:
        hours = []
        for hour in sorted(figures.hours):
            s = sales_figures(figures.hours[hour])
            net, quantity, count = s["net"]
            if not (s["gross"][2] or s["returns"][2]):
                continue
            average = (net / count).quantize(CENT, rounding=ROUND_HALF_UP) if count > 0 else ZERO
            hours.append(
                {
                    "hour": hour,
                    "count": count,
                    "grossAmount": num(s["gross"][0]),
                    "netAmount": num(net),
                    "quantity": quantity,
                    "averageAmount": num(average),
                    # Beside v1 (issue 25): that hour's returns by reason.
                    "returnsByReason": returns_by_reason(figures.hours[hour]),
                }
            )
        total = sales_figures(figures.counters)
        net, quantity, count = total["net"]
        return {
            **request.header(),
            "hours": hours,
            "totalCount": count,
            "totalGrossAmount": num(total["gross"][0]),
            "totalNetAmount": num(net),
            "totalQuantity": quantity,
            "averageAmount": num(
                (net / count).quantize(CENT, rounding=ROUND_HALF_UP) if count > 0 else ZERO
            ),
            "receiptText": "",
            "journalText": "",
        }

    def body_lines(self, request: ReportRequest, data: dict[str, Any]) -> list[Line]:
        lines = [
            split(f"{h['hour']:02d}時 {h['count']}件", yen(h["netAmount"])) for h in data["hours"]
        ]
        lines += [BORDER, split(f"合計 {data['totalCount']}件", yen(data["totalNetAmount"]))]
        return lines

    def csv_rows(self, data: dict[str, Any]) -> tuple[list[str], list[list[Any]]]:
        header = ["hour", "count", "grossAmount", "netAmount", "quantity", "averageAmount"]
        return header, [[h[k] for k in header] for h in data["hours"]]
