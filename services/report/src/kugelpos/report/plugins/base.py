"""What a report type is: one class with `generate_report`, registered in `plugins.json`.

    {"report_makers": {"<type>": {"module": "...", "class": "...", "args": ["<master_data>"]}}}

`generate_report(request, figures)` is pure over the summed figures (`figures.Figures`) of the
buckets the request selects; it returns the response `data`. `body_lines` gives the receipt
body (the header and footer are common), `csv_rows` the CSV export. `families` and `per_hour`
say which figures it reads (by default all of them; `figures.hours` holds each hour's core
counters), so a report reads only the aggregate documents it needs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from kugelpos.common.receipts import Line

from ..figures import FAMILIES, Figures


@dataclass(frozen=True, slots=True)
class ReportRequest:
    tenant_id: str
    store_code: str
    terminal_no: int | None
    business_date: str | None
    business_date_from: str | None
    business_date_to: str | None
    open_counter: int | None
    business_counter: int | None
    report_scope: str
    report_type: str
    limit: int = 100
    page: int = 1
    sort: str | None = None
    store_name: str | None = None
    staff_id: str | None = None
    generate_date_time: str = ""

    @property
    def is_range(self) -> bool:
        return self.business_date_from is not None

    @property
    def date_from(self) -> str:
        return self.business_date_from or self.business_date or ""

    @property
    def date_to(self) -> str:
        return self.business_date_to or self.business_date or ""

    def header(self) -> dict[str, Any]:
        return {
            "tenantId": self.tenant_id,
            "storeCode": self.store_code,
            "terminalNo": self.terminal_no,
            "businessDate": None if self.is_range else self.business_date,
            "businessDateFrom": self.business_date_from,
            "businessDateTo": self.business_date_to,
            "openCounter": self.open_counter,
            "businessCounter": self.business_counter,
        }


class ReportMaker:
    """Base of every report type (the built-in ones included)."""

    title: ClassVar[str] = "【 レ ポ ー ト 】"
    # The counter families `generate_report` reads (`figures.FAMILIES`) and whether it reads
    # `figures.hours`: everything unless a type narrows it, as the built-in ones do (each
    # family a report reads costs the documents of every session selected).
    families: ClassVar[frozenset[str]] = frozenset(FAMILIES)
    per_hour: ClassVar[bool] = True

    async def generate_report(self, request: ReportRequest, figures: Figures) -> dict[str, Any]:
        raise NotImplementedError

    def body_lines(self, request: ReportRequest, data: dict[str, Any]) -> list[Line]:
        return []

    def csv_rows(self, data: dict[str, Any]) -> tuple[list[str], list[list[Any]]]:
        raise NotImplementedError

    # v1 keys of the texts; the payment report (snake_case) overrides them.
    receipt_key: ClassVar[str] = "receiptText"
    journal_key: ClassVar[str] = "journalText"
