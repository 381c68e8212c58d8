"""The default receipt plugin (spec §8): `receipt_text` (XML print data) and `journal_text`
(plain text, fixed display width, East-Asian wide characters count 2) from one list of lines.

Fixes of spec §18.14: the reduced-rate taxes `11`/`12` print their `軽` mark, percentages print
without a spurious `.0` (`10%`), and negative amounts print `-\\100`, not `--100`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from kugelpos.common.receipts import (
    BORDER,
    Line,
    center,
    comma,
    left,
    moment_text,
    render_journal,
    render_print_data,
    rjust,
    split,
    till_line,
    yen,
)
from kugelpos.common.transactions import TransactionType

from ..pricing.money import to_decimal

TITLES = {
    TransactionType.NORMAL_SALES: "領 収 証",
    TransactionType.RETURN_SALES: "返 品 伝 票",
    TransactionType.VOID_SALES: "売上取消伝票",
    TransactionType.VOID_RETURN: "返品取消伝票",
}
CANCELLED_TITLE = "取 引 中 止"
TAX_MARKS = {"01": "外", "02": "込", "11": "軽", "12": "軽"}
# Transactions that print the one they refer to.
_REFERRING = frozenset(
    {TransactionType.RETURN_SALES, TransactionType.VOID_SALES, TransactionType.VOID_RETURN}
)
ORIGIN_KINDS = {TransactionType.NORMAL_SALES: "売 上", TransactionType.RETURN_SALES: "返 品"}
CASH = "01"


def _dec(value: Any) -> Decimal:
    try:
        return to_decimal(value if value is not None else 0)
    except (TypeError, ValueError):
        return Decimal(0)


def percent(value: Any) -> str:
    number = _dec(value)
    text = comma(number) if number == number.to_integral_value() else f"{number.normalize()}"
    return f"{text.zfill(2)}%"


class ReceiptRenderer:
    """The receipt plugin every cart uses by default (v1 shipped it as `ReceiptDataSample`):
    a transaction log to its `receipt_text` and `journal_text`. Named `default`; `width` is
    the paper width in display columns (32)."""

    def __init__(self, name: str = "default", width: str | int = 32) -> None:
        self.name = name
        self.width = int(width)

    # ---- rendering -----------------------------------------------------------------------------

    def render(self, tranlog: dict[str, Any]) -> tuple[str, str]:
        lines = self.lines(tranlog)
        return self.to_xml(lines), self.to_journal(lines)

    def to_journal(self, lines: Iterable[Line]) -> str:
        return render_journal(list(lines), self.width)

    def to_xml(self, lines: Iterable[Line]) -> str:
        return render_print_data(list(lines), self.width)

    # ---- content -------------------------------------------------------------------------------

    def lines(self, t: dict[str, Any]) -> list[Line]:
        out: list[Line] = []
        info = t.get("additional_info") or {}
        out += self._configured(info.get("receipt_headers"))
        staff = (t.get("staff") or {}).get("id") or ""
        out.append(till_line(t.get("terminal_no", ""), staff))
        out.append(left(_date(t.get("generate_date_time"))))
        out.append(center(f"【 {_title(t)} 】"))
        out += self._items(t)
        out += self._totals(t)
        out += self._payments(t)
        out += self._origin(t)
        out += self._footer(t, info)
        return out

    @staticmethod
    def _configured(entries: Any) -> list[Line]:
        lines = []
        for entry in entries or []:
            if not isinstance(entry, dict):
                continue
            text = str(entry.get("text") or "")
            align = str(entry.get("align") or "left").lower()
            kind = {"center": "Center", "right": "Right"}.get(align, "Left")
            lines.append(Line("Text", kind, text))
        return lines

    def _items(self, t: dict[str, Any]) -> list[Line]:
        out = [BORDER]
        for item in t.get("line_items") or []:
            if item.get("is_cancelled"):
                continue
            discounts = item.get("discounts") or []
            gross = _dec(item.get("amount")) + sum(
                (_dec(d.get("discount_amount")) for d in discounts), Decimal(0)
            )
            mark = TAX_MARKS.get(str(item.get("tax_code")), "  ")
            out.append(split(str(item.get("description") or ""), f"{comma(gross)}{mark}"))
            if item.get("card_no"):  # a gift card sold: which card (masked) the money went on
                out.append(left(f"  カード {item.get('card_no')}"))
            quantity = int(item.get("quantity") or 0)
            if quantity >= 2:
                out.append(left(f"{rjust(f'{quantity} 個', 12)}@{comma(item.get('unit_price'))}"))
            for d in discounts:
                if d.get("discount_type") == "DiscountAmount":
                    out.append(split(rjust("値引:", 15), f"-{comma(d.get('discount_amount'))}  "))
                else:
                    label = rjust(f"割引: {percent(d.get('discount_value'))}", 19)
                    out.append(split(label, f"-{comma(d.get('discount_amount'))}  "))
        return out

    def _totals(self, t: dict[str, Any]) -> list[Line]:
        sales = t.get("sales") or {}
        subtotal_discounts = t.get("subtotal_discounts") or []
        discounts = sum((_dec(d.get("discount_amount")) for d in subtotal_discounts), Decimal(0))
        quantity = rjust(f"{sales.get('total_quantity', 0)} 個", 16)
        out = [
            BORDER,
            split(f"小計{quantity}", f"{yen(_dec(sales.get('total_amount')) + discounts)}  "),
        ]
        for d in subtotal_discounts:
            amount = _dec(d.get("discount_amount"))
            if d.get("discount_type") == "DiscountAmount":
                out.append(split("  値引", f"{yen(-amount)}  "))
            else:
                out.append(
                    split(f"  割引: {percent(d.get('discount_value'))}", f"{yen(-amount)}  ")
                )
        taxes = t.get("taxes") or []
        for tax in taxes:
            if tax.get("tax_type") == "External":
                out.append(split(f"  {tax.get('tax_name', '')}", f"{yen(tax.get('tax_amount'))}  "))
        out.append(split("合計", f"{yen(sales.get('total_amount_with_tax'))}  "))
        for tax in taxes:
            name = tax.get("tax_name", "")
            out.append(split(f"  ({name} 対象額", f"{yen(tax.get('target_amount'))})"))
            out.append(split(f"  ({name}", f"{yen(tax.get('tax_amount'))})"))
        return out

    def _payments(self, t: dict[str, Any]) -> list[Line]:
        payments: Sequence[dict[str, Any]] = t.get("payments") or []
        out: list[Line] = []
        cash = [p for p in payments if p.get("payment_code") == CASH]
        if cash:
            deposit = sum((_dec(p.get("deposit_amount")) for p in cash), Decimal(0))
            change = (t.get("sales") or {}).get("change_amount")
            out += [split("お預り", f"{yen(deposit)}  "), split("お釣り", f"{yen(change)}  ")]
        out.append(BORDER)
        for p in sorted(payments, key=lambda p: str(p.get("payment_code"))):
            if _dec(p.get("amount")) == 0:
                continue
            out.append(split(str(p.get("description") or ""), f"{yen(p.get('amount'))}  "))
            if p.get("card_no"):  # paid by, or refunded onto, a card (masked)
                out.append(left(f"  カード {p.get('card_no')}"))
        return out

    def _origin(self, t: dict[str, Any]) -> list[Line]:
        origin = t.get("origin")
        out = self._return_why(t)
        if t.get("transaction_type") not in _REFERRING or not isinstance(origin, dict):
            return out
        return [
            *out,
            BORDER,
            left("[対象レシート]"),
            split("日時", _date(origin.get("generate_date_time"))),
            split("取引区分", ORIGIN_KINDS.get(origin.get("transaction_type"), "不 明")),
            split("店舗コード", str(origin.get("store_code", ""))),
            split("店舗名", str(origin.get("store_name") or "")),
            split("レジNo.", str(origin.get("terminal_no", ""))),
            split("レシートNo.", str(origin.get("receipt_no", ""))),
            split("取引通番", str(origin.get("transaction_no", ""))),
        ]

    @staticmethod
    def _return_why(t: dict[str, Any]) -> list[Line]:
        """A return's reason and approver (issue 25), and the mark of one without a receipt
        (it has no original to print)."""
        if t.get("transaction_type") not in _REFERRING:
            return []
        info = t.get("additional_info") or {}
        out: list[Line] = []
        if t.get("blind"):
            out.append(left("[レシートなし返品]"))
        if info.get("return_reason_code"):
            out.append(split("返品理由", str(info["return_reason_code"])))
        if info.get("approved_by"):
            out.append(split("承認者", str(info["approved_by"])))
        return [BORDER, *out] if out else []

    def _footer(self, t: dict[str, Any], info: dict[str, Any]) -> list[Line]:
        out = [BORDER, left(f"レシートNo. {t.get('receipt_no', '')}")]
        sales = t.get("sales") or {}
        if sales.get("is_stamp_duty_applied"):
            box = "-" * 10
            out += [
                left(""),
                left(box),
                left("|        |"),
                left("| (stamp)|"),
                left("|        |"),
                left("|        |"),
                left(box),
                left(f"印紙代{comma(sales.get('stamp_duty_amount'))}円"),
            ]
        number = info.get("invoice_registration_number")
        if number:
            out.append(left(f"事業者登録番号 {number}"))
        out += self._configured(info.get("receipt_footers"))
        return out


def _title(t: dict[str, Any]) -> str:
    if (t.get("sales") or {}).get("is_cancelled"):
        return CANCELLED_TITLE
    return TITLES.get(t.get("transaction_type"), "")


def _date(value: Any) -> str:
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        return ""
    return moment_text(moment)
