"""What one terminal session (business date + open counter) took in: the figures the terminal
service needs to close the till and compare the drawer with what it should hold."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from kugelpos.common.money import from_storage
from kugelpos.common.transactions import TransactionType

from ..pricing.totals import CASH_PAYMENT_CODES

# Which way cash moves for each kind of tranlog (their amounts are stored positive).
_CASH_DIRECTION = {
    TransactionType.NORMAL_SALES: 1,
    TransactionType.RETURN_SALES: -1,
    TransactionType.VOID_SALES: -1,
    TransactionType.VOID_RETURN: 1,
    TransactionType.NORMAL_SALES_CANCEL: 0,
}


@dataclass(frozen=True, slots=True)
class SessionSummary:
    transaction_count: int
    last_transaction_no: int | None
    cash_sales_amount: Decimal


def _amount(value: Any) -> Decimal:
    return Decimal(0) if value is None else Decimal(from_storage(value))


def summarize(
    tranlogs: Iterable[Mapping[str, Any]], cash_codes: tuple[str, ...] = CASH_PAYMENT_CODES
) -> SessionSummary:
    """Net cash: what cash payments settled on sales (a payment's `amount` is what it settled,
    the change already deducted), paid back on returns and voided sales, taken again on voided
    returns; a cancelled sale moves nothing."""
    count, last, cash = 0, None, Decimal(0)
    for tranlog in tranlogs:
        count += 1
        number = tranlog.get("transaction_no")
        if isinstance(number, int):
            last = number if last is None else max(last, number)
        sales = tranlog.get("sales") or {}
        direction = _CASH_DIRECTION.get(tranlog.get("transaction_type"), 0)
        if not direction or sales.get("is_cancelled"):
            continue
        settled = sum(
            (
                _amount(p.get("amount"))
                for p in tranlog.get("payments") or ()
                if p.get("payment_code") in cash_codes
            ),
            Decimal(0),
        )
        cash += direction * settled
    return SessionSummary(count, last, cash)
