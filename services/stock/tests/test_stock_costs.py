"""Cost arithmetic (pure): the moving average and the value, integer-exact."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, localcontext

from hypothesis import given
from hypothesis import strategies as st

from kugelpos.stock.costs import (
    divide_half_up,
    from_cost_units,
    moving_average,
    stock_value,
    to_cost_units,
)

units = st.integers(min_value=-(10**19), max_value=10**19)
positive = st.integers(min_value=1, max_value=10**19)
cost_units = st.integers(min_value=0, max_value=10**15)


@given(units, positive)
def test_divide_half_up_is_exact_rounding(numerator: int, denominator: int) -> None:
    with localcontext() as ctx:
        ctx.prec = 100
        exact = Decimal(numerator) / Decimal(denominator)
    assert divide_half_up(numerator, denominator) == int(
        exact.quantize(Decimal(1), rounding=ROUND_HALF_UP)
    )


@given(st.integers(min_value=1, max_value=10**15), cost_units, positive, cost_units)
def test_the_average_lies_between_the_two_costs(
    on_hand: int, average: int, received: int, cost: int
) -> None:
    after = moving_average(on_hand, average, received, cost)
    assert min(average, cost) <= after <= max(average, cost)


@given(st.integers(max_value=0, min_value=-(10**15)), cost_units, positive, cost_units)
def test_nothing_on_hand_takes_the_receipt_cost(
    on_hand: int, average: int, received: int, cost: int
) -> None:
    assert moving_average(on_hand, average, received, cost) == cost


def test_worked_examples() -> None:
    # docs/stock.md: 6 at 2.50, 6 more at 4.00 -> 3.25; 7 more at 1.0001 -> 2.4211
    a = moving_average(60_000, to_cost_units(Decimal("2.5")), 60_000, to_cost_units(Decimal(4)))
    assert from_cost_units(a) == Decimal("3.25")
    b = moving_average(120_000, a, 70_000, to_cost_units(Decimal("1.0001")))
    assert from_cost_units(b) == Decimal("2.4211")
    # 0.5 x 1.0001 = 0.50005 -> 0.5001; negative stock is valued away from zero alike.
    assert stock_value(5_000, 10_001) == Decimal("0.5001")
    assert stock_value(-5_000, 10_001) == Decimal("-0.5001")
