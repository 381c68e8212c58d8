"""Receipt and journal texts of a report (§3.13): common header and footer, the type's body,
rendered by `commons.receipts` (XML print document + 32-column journal)."""

from __future__ import annotations

from typing import Any

from kugelpos.common.receipts import BORDER, Line, center, left, render_journal, render_print_data

from .plugins.base import ReportMaker, ReportRequest


def _date(text: str | None) -> str:
    return f"{text[:4]}/{text[4:6]}/{text[6:]}" if text and len(text) == 8 else text or ""


def header_lines(maker: ReportMaker, request: ReportRequest) -> list[Line]:
    lines = [left(f"店舗名 {request.store_name or request.store_code}")]
    who = f"レジNo. {request.terminal_no}" if request.terminal_no is not None else "店舗合計"
    lines.append(left(f"{who}  責# {request.staff_id or ''}".rstrip()))
    lines.append(left(request.generate_date_time[:19].replace("T", " ")))
    lines.append(center(maker.title))
    lines.append(center("( 日報 )" if request.report_scope == "daily" else "( 速報 )"))
    if request.is_range:
        period = f"{_date(request.business_date_from)}～{_date(request.business_date_to)}"
        lines.append(left(f"期間 {period}"))
    else:
        lines.append(left(f"営業日付 {_date(request.business_date)}"))
    if request.open_counter is not None:
        lines.append(left(f"開設回数 {request.open_counter}"))
    if request.report_scope == "daily" and request.business_counter is not None:
        lines.append(left(f"精算通番 {request.business_counter}"))
    lines.append(BORDER)
    return lines


def render(maker: ReportMaker, request: ReportRequest, data: dict[str, Any]) -> tuple[str, str]:
    lines = [
        *header_lines(maker, request),
        *maker.body_lines(request, data),
        BORDER,
        left("レシートNo. ------"),
    ]
    return render_print_data(lines), render_journal(lines)
