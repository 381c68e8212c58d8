"""From an inbound log to its journal entry (report-journal-events §2.3). Pure: no I/O.

- tranlog: the payload's type, except 101 with `sales.is_cancelled` -> -101; amount
  `sales.total_amount_with_tax`, quantity `sales.total_quantity`, staff and user ids.
- cashlog: amount > 0 -> 401, otherwise (0 included) -> 402; amount signed as sent; quantity 0.
- opencloselog: open -> 301, close -> 302; amount and quantity 0.

A missing `user` or `staff` gives null ids (v1 failed the message).
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from kugelpos.common.events.consumer import EventRejected
from kugelpos.common.events.logs import CashLog, InboundLog, OpenCloseLog, TransactionLog
from kugelpos.common.money import MAX_DIGITS, ZERO, from_storage
from kugelpos.common.transactions import TransactionType

from .documents import JournalDocument


def _amount(value: Any, what: str) -> Decimal:
    """An amount as sent (JSON number), exactly; a non-number can never be journalled."""
    if value is None:
        return ZERO
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        raise EventRejected(f"{what} is not a number")
    try:
        amount = Decimal(from_storage(value))
    except (InvalidOperation, ValueError) as exc:
        raise EventRejected(f"{what} is not a number") from exc
    if not amount.is_finite() or len(amount.as_tuple().digits) > MAX_DIGITS:
        raise EventRejected(f"{what} is not a finite amount of at most {MAX_DIGITS} digits")
    return amount


def _quantity(value: Any, what: str) -> int:
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise EventRejected(f"{what} is not a number")
    if isinstance(value, float) and not value.is_integer():
        raise EventRejected(f"{what} is not a whole number")
    return int(value)


def _common(log_: InboundLog) -> dict[str, Any]:
    return {
        "tenant_id": log_.tenant_id,
        "store_code": log_.store_code,
        "terminal_no": log_.terminal_no,
        "business_date": log_.business_date,
        "open_counter": log_.open_counter,
        "business_counter": log_.business_counter,
        "generate_date_time": log_.generate_date_time,
        "journal_text": log_.journal_text or "",
        "receipt_text": log_.receipt_text or "",
    }


def from_tranlog(log_: TransactionLog) -> JournalDocument:
    sales = log_.sales or {}
    return JournalDocument(
        **_common(log_),
        transaction_no=log_.transaction_no,
        transaction_type=log_.journal_type,
        receipt_no=log_.receipt_no,
        amount=_amount(sales.get("total_amount_with_tax"), "sales.total_amount_with_tax"),
        quantity=_quantity(sales.get("total_quantity"), "sales.total_quantity"),
        staff_id=log_.staff.id if log_.staff else None,
        user_id=log_.user.id if log_.user else None,
    )


def cash_type(amount: Decimal) -> TransactionType:
    return TransactionType.CASH_IN if amount > 0 else TransactionType.CASH_OUT


def from_cashlog(log_: CashLog) -> JournalDocument:
    amount = _amount(log_.amount, "amount")
    return JournalDocument(
        **_common(log_),
        transaction_type=int(cash_type(amount)),
        amount=amount,
        quantity=0,
        staff_id=log_.staff_id,
    )


def from_opencloselog(log_: OpenCloseLog) -> JournalDocument:
    kind = TransactionType.OPEN if log_.operation == "open" else TransactionType.CLOSE
    return JournalDocument(
        **_common(log_),
        transaction_type=int(kind),
        amount=ZERO,
        quantity=0,
        staff_id=log_.staff_id,
    )
