"""What the terminal prints for open, close and cash movements: the shared receipt document
(`kugelpos.common.receipts`, the paper every printing service shares) with the v1 Japanese
labels. Informative for printing, not machine-parsed."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from kugelpos.common import receipts as paper
from kugelpos.common.receipts import Line, render_journal

__all__ = [
    "Line",
    "amount",
    "footer",
    "header",
    "pair",
    "render_journal",
    "render_receipt",
    "text",
]

RECEIPT_NO_PLACEHOLDER = "レシートNo. ------"

# Report titles and labels, as v1 prints them.
OPENING_FLOAT = "釣 銭 準 備 金"
OPEN = "開 局"
CLOSE = "閉 局"
CASH_IN = "入 金"
CASH_OUT = "出 金"
LABELS = {
    "amount": "金額",
    "business_date": "営業日",
    "open_counter": "開局回数",
    "business_counter": "営業回数",
    "initial_amount": "釣銭準備金",
    "cash_in": "入金",
    "cash_out": "出金",
    "cash_sales": "現金売上",
    "expected": "理論在高",
    "counted": "実在高",
    "difference": "過不足",
}


def amount(value: Decimal | None) -> str:
    """`1,234円`; `-` when unknown."""
    return "-" if value is None else f"{paper.comma(value)}円"


def pair(label: str, value: str) -> Line:
    return paper.split(LABELS.get(label, label), value)


def text(value: str) -> Line:
    return paper.left(value)


def _stamp(moment: str) -> str:
    """`2026年11月29日(日) 12:37` from the log's own (zoned) timestamp."""
    try:
        when = datetime.fromisoformat(moment)
    except ValueError:
        return moment[:16]
    return paper.moment_text(when)


def header(
    *, store_name: str, terminal_no: int, staff_id: str | None, moment: str, report: str
) -> list[Line]:
    staff = staff_id.zfill(6) if staff_id else "------"
    return [
        paper.left(store_name),
        paper.till_line(terminal_no, staff),
        paper.left(_stamp(moment)),
        paper.BORDER,
        paper.center(f"【 {report} 】"),
        paper.BORDER,
    ]


def footer() -> list[Line]:
    return [paper.BORDER, paper.left(RECEIPT_NO_PLACEHOLDER)]


def render_receipt(lines: list[Line]) -> str:
    return paper.render_print_data(lines)
