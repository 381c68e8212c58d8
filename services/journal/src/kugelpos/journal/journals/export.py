"""CSV rendering of journal entries for auditors. Pure: no I/O.

One header row, then one row per entry, UTF-8, RFC 4180 quoting (`csv` module, CRLF line ends).
`journal_text` (plain text, multi-line) is included; `receipt_text` (the XML print document) is
not: it repeats the same content for a printer. Text cells that a spreadsheet would run as a
formula (leading `=`, `+`, `-`, `@`, tab, CR) get a leading `'`, so opening an export never
executes anything; numbers are written as numbers.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from typing import Any

from kugelpos.common.money import from_storage, json_number

COLUMNS: tuple[str, ...] = (
    "tenant_id",
    "store_code",
    "terminal_no",
    "business_date",
    "open_counter",
    "business_counter",
    "generate_date_time",
    "transaction_type",
    "transaction_no",
    "receipt_no",
    "amount",
    "quantity",
    "staff_id",
    "user_id",
    "journal_text",
)
_TEXT = frozenset({"tenant_id", "store_code", "staff_id", "user_id", "journal_text"})
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(column: str, value: Any) -> Any:
    if value is None:
        return ""
    if column == "amount":
        return json_number(from_storage(value))
    if column in _TEXT and isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def render(rows: Iterable[dict[str, Any]], *, header: bool = False) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    if header:
        writer.writerow(COLUMNS)
    for row in rows:
        writer.writerow([_cell(column, row.get(column)) for column in COLUMNS])
    return buffer.getvalue()
