"""Quantity arithmetic (pure): exact in units, whatever the changes."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from kugelpos.stock.quantities import SCALE, apply_change, from_units, to_units

quantities = st.decimals(
    min_value=Decimal("-99999999999"),
    max_value=Decimal("99999999999"),
    places=4,
    allow_nan=False,
    allow_infinity=False,
)


@given(quantities)
def test_units_round_trip(q: Decimal) -> None:
    assert from_units(to_units(q)) == q
    assert to_units(q) == int(q * SCALE)


@given(st.lists(quantities, max_size=50))
def test_running_sum_in_units_is_the_decimal_sum(changes: list[Decimal]) -> None:
    level = Decimal(0)
    units = 0
    for change in changes:
        before, after = apply_change(level, change)
        assert before == level and after - before == change
        level = after
        units += to_units(change)
    assert level == sum(changes, Decimal(0))
    assert from_units(units) == level
