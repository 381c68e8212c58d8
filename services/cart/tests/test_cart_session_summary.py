"""The session cash figures a terminal closes with."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from kugelpos.cart.transactions.session import summarize


def _tran(
    no: int,
    kind: int,
    payments: list[tuple[str, float]],
    change: float = 0.0,
    cancelled: bool = False,
) -> dict:
    return {
        "transaction_no": no,
        "transaction_type": kind,
        "payments": [{"payment_code": code, "amount": amount} for code, amount in payments],
        "sales": {"change_amount": change, "is_cancelled": cancelled},
    }


def test_worked_session() -> None:
    session = [
        _tran(1, 101, [("01", 880.0)]),  # cash sale of 880 (1,000 tendered, 120 change)
        _tran(2, 101, [("11", 500.0), ("01", 300.0)]),  # split tender: 300 cash
        _tran(3, -101, [], cancelled=True),  # cancelled: no cash
        _tran(4, 102, [("01", 200.0)]),  # a return paid back in cash
        _tran(5, 201, [("01", 300.0), ("11", 500.0)]),  # sale 2 voided: cash back
        _tran(6, 202, [("01", 200.0)]),  # the return voided: cash taken again
    ]
    summary = summarize(session)
    assert summary.transaction_count == 6
    assert summary.last_transaction_no == 6
    assert summary.cash_sales_amount == Decimal("880")


def test_empty_session() -> None:
    summary = summarize([])
    assert (summary.transaction_count, summary.last_transaction_no) == (0, None)
    assert summary.cash_sales_amount == 0


cash = st.decimals(min_value=0, max_value=100000, places=2)


@given(st.lists(st.tuples(cash, cash), max_size=20))
def test_voided_sales_cancel_their_cash_exactly(sales: list[tuple[Decimal, Decimal]]) -> None:
    trans, kept = [], Decimal(0)
    for i, (voided, kept_sale) in enumerate(sales):
        trans.append(_tran(3 * i + 1, 101, [("01", float(voided)), ("11", 10.0)]))
        trans.append(_tran(3 * i + 2, 201, [("01", float(voided)), ("11", 10.0)]))
        trans.append(_tran(3 * i + 3, 101, [("01", float(kept_sale))]))
        kept += kept_sale
    summary = summarize(trans)
    assert summary.cash_sales_amount == kept
    assert summary.transaction_count == 3 * len(sales)


def test_change_is_not_deducted_twice() -> None:
    # 1,000 tendered for 880: the payment settled 880 and the sale records 120 change.
    sale = {
        "transaction_no": 1,
        "transaction_type": 101,
        "payments": [{"payment_code": "01", "amount": 880.0, "deposit_amount": 1000.0}],
        "sales": {"change_amount": 120.0, "is_cancelled": False},
    }
    assert summarize([sale]).cash_sales_amount == Decimal("880")
