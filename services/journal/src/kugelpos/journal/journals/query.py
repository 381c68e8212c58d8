"""Journal search parameters -> a MongoDB filter, a sort and a readable echo. Pure: no I/O.

Fixes of v1 (report-journal-events §6.9): keywords are literal text (escaped; several
keywords match any of them); a one-sided range is applied (`from` only: >=, `to` only: <=);
receipt number 0 is a real value; `limit` is 1..1000 (0 no longer means "everything": 400,
use paging or `format=csv`); `sort` only on the listed fields; the echo in `metadata.filter`
names what was applied, never the database query.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from kugelpos.common.errors import BadRequestError
from kugelpos.common.pagination import MAX_LIMIT, PageParams, SortSpec, parse_sort

from ..errors import JournalDateError, JournalFormatError

SORTABLE = frozenset(
    {
        "terminal_no",
        "business_date",
        "receipt_no",
        "generate_date_time",
        "transaction_type",
        "transaction_no",
        "amount",
    }
)
DEFAULT_SORT: SortSpec = [("terminal_no", 1), ("business_date", 1), ("receipt_no", 1)]
DEFAULT_LIMIT = 100
MAX_PAGE = 1_000_000
MAX_LIST = 100  # terminals / transaction types per query
MAX_KEYWORDS = 20
MAX_KEYWORD_CHARS = 100
MAX_NUMBER = 2**31 - 1  # terminal and receipt numbers; larger values cannot be stored anyway
MAX_TYPE = 9999
_DATE = re.compile(r"^\d{8}$")
# An ISO-8601 timestamp or any leading part of one (`2026-12-01`, `2026-12-01T10:30`...).
_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}([T ][0-9:.]{0,15}([+-]\d{2}:?\d{2}|Z)?)?$")
# Sorts after every character an ISO timestamp may contain: `to` + this is the end of the
# prefix range, so `to=2026-12-01` includes the whole day.
_PREFIX_END = "\uffff"


@dataclass(frozen=True, slots=True)
class JournalQuery:
    terminals: tuple[int, ...] = ()
    transaction_types: tuple[int, ...] = ()
    business_date_from: str | None = None
    business_date_to: str | None = None
    generate_date_time_from: str | None = None
    generate_date_time_to: str | None = None
    receipt_no_from: int | None = None
    receipt_no_to: int | None = None
    keywords: tuple[str, ...] = field(default_factory=tuple)

    def mongo_filter(self, tenant_id: str, store_code: str) -> dict[str, Any]:
        query: dict[str, Any] = {"tenant_id": tenant_id, "store_code": store_code}
        if self.terminals:
            query["terminal_no"] = {"$in": list(self.terminals)}
        if self.transaction_types:
            query["transaction_type"] = {"$in": list(self.transaction_types)}
        if bounds := _range(self.business_date_from, self.business_date_to):
            query["business_date"] = bounds
        to = self.generate_date_time_to
        if bounds := _range(
            self.generate_date_time_from, None if to is None else to + _PREFIX_END, upper="$lt"
        ):
            query["generate_date_time"] = bounds
        if bounds := _range(self.receipt_no_from, self.receipt_no_to):
            # Entries without a receipt (cash, open/close: null) are never in a range of
            # numbers: a comparison matches values of its own type only.
            query["receipt_no"] = bounds
        if self.keywords:
            query["journal_text"] = {"$regex": "|".join(re.escape(k) for k in self.keywords)}
        return query

    def echo(self) -> dict[str, Any]:
        """What was applied, in the request's own terms (`metadata.filter`)."""
        shown: dict[str, Any] = {}
        if self.terminals:
            shown["terminals"] = list(self.terminals)
        if self.transaction_types:
            shown["transaction_types"] = list(self.transaction_types)
        for name in ("business_date", "generate_date_time", "receipt_no"):
            low, high = getattr(self, f"{name}_from"), getattr(self, f"{name}_to")
            bounds = {k: v for k, v in (("from", low), ("to", high)) if v is not None}
            if bounds:
                shown[name] = bounds
        if self.keywords:
            shown["keywords"] = list(self.keywords)
        return shown


def _range(low: Any, high: Any, *, upper: str = "$lte") -> dict[str, Any]:
    bounds: dict[str, Any] = {}
    if low is not None:
        bounds["$gte"] = low
    if high is not None:
        bounds[upper] = high
    return bounds


def _numbers(values: Sequence[int] | None, name: str, low: int, high: int) -> tuple[int, ...]:
    values = list(values or [])
    if len(values) > MAX_LIST:
        raise JournalFormatError(f"{name}: at most {MAX_LIST} values")
    for value in values:
        if not low <= value <= high:
            raise JournalFormatError(f"{name}: {value} is out of range {low}..{high}")
    return tuple(dict.fromkeys(values))  # repeated values change nothing


def _ordered[T](low: T | None, high: T | None, name: str, error: type[BadRequestError]) -> None:
    if low is not None and high is not None and low > high:  # type: ignore[operator]
        raise error(f"{name}_from is after {name}_to")


def build_query(
    *,
    terminals: Sequence[int] | None = None,
    transaction_types: Sequence[int] | None = None,
    business_date_from: str | None = None,
    business_date_to: str | None = None,
    generate_date_time_from: str | None = None,
    generate_date_time_to: str | None = None,
    receipt_no_from: int | None = None,
    receipt_no_to: int | None = None,
    keywords: Sequence[str] | None = None,
) -> JournalQuery:
    """Check every value; anything out of shape or range is a 400 (nothing is queried)."""
    for name, value in (
        ("business_date_from", business_date_from),
        ("business_date_to", business_date_to),
    ):
        if value is not None and not _DATE.fullmatch(value):
            raise JournalDateError(f"{name} must be YYYYMMDD")
    _ordered(business_date_from, business_date_to, "business_date", JournalDateError)
    for name, value in (
        ("generate_date_time_from", generate_date_time_from),
        ("generate_date_time_to", generate_date_time_to),
    ):
        if value is not None and not _DATETIME.fullmatch(value):
            raise JournalDateError(
                f"{name} must be an ISO timestamp or its leading part, e.g. 2026-12-01T10:30"
            )
    _ordered(generate_date_time_from, generate_date_time_to, "generate_date_time", JournalDateError)
    for name, value in (("receipt_no_from", receipt_no_from), ("receipt_no_to", receipt_no_to)):
        if value is not None and not 0 <= value <= MAX_NUMBER:
            raise JournalFormatError(f"{name} is out of range 0..{MAX_NUMBER}")
    _ordered(receipt_no_from, receipt_no_to, "receipt_no", JournalFormatError)
    words = list(keywords or [])
    if len(words) > MAX_KEYWORDS:
        raise JournalFormatError(f"keywords: at most {MAX_KEYWORDS}")
    for word in words:
        if not word or len(word) > MAX_KEYWORD_CHARS:
            raise JournalFormatError(f"keywords: each 1..{MAX_KEYWORD_CHARS} characters")
    return JournalQuery(
        terminals=_numbers(terminals, "terminals", 0, MAX_NUMBER),
        transaction_types=_numbers(transaction_types, "transaction_types", -MAX_TYPE, MAX_TYPE),
        business_date_from=business_date_from,
        business_date_to=business_date_to,
        generate_date_time_from=generate_date_time_from,
        generate_date_time_to=generate_date_time_to,
        receipt_no_from=receipt_no_from,
        receipt_no_to=receipt_no_to,
        keywords=tuple(dict.fromkeys(words)),
    )


def build_page(limit: int, page: int, sort: str | None) -> PageParams:
    if not 1 <= limit <= MAX_LIMIT:
        raise JournalFormatError(
            f"limit must be 1..{MAX_LIMIT} (0 no longer means all: page, or use format=csv)"
        )
    if not 1 <= page <= MAX_PAGE:
        raise JournalFormatError(f"page must be 1..{MAX_PAGE}")
    return PageParams(limit=limit, page=page, sort=parse_journal_sort(sort))


def parse_journal_sort(raw: str | None) -> SortSpec:
    if raw is not None and len(raw) > 256:
        raise JournalFormatError("sort is too long")
    try:
        spec = parse_sort(raw, SORTABLE)
    except BadRequestError as exc:
        raise JournalFormatError(exc.message) from exc
    names = [name for name, _ in spec]
    if len(names) != len(set(names)):
        raise JournalFormatError("sort names a field twice")
    return spec or list(DEFAULT_SORT)
