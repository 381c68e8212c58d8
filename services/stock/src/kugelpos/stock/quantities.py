"""Exact stock quantities: `Decimal` in code, whole *units* of 1/10,000 in MongoDB.

A stock level is a running sum of signed changes applied with `$inc`. Summing doubles drifts
(0.1 + 0.2 != 0.3), so the stored value is an integer count of the smallest quantity step
(`SCALE` = 10^-4, enough for grams of a kilogram article): integer `$inc` is exact and atomic,
and every quantity a client may send (at most 4 decimals, 15 significant digits) maps to one
integer and back without loss. Clients still see plain JSON numbers.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from kugelpos.common.money import amount_in, json_number

DECIMAL_PLACES = 4
SCALE = 10**DECIMAL_PLACES
# A signed change or threshold from a client: a finite JSON number (or numeric string), at
# most 4 decimals and 15 digits; `1e400`, NaN, Infinity, booleans and text are refused.
Quantity = amount_in(DECIMAL_PLACES, max_digits=15)


def to_units(quantity: Decimal) -> int:
    units = quantity * SCALE
    if units != units.to_integral_value():
        raise ValueError(f"{quantity} has more than {DECIMAL_PLACES} decimal places")
    return int(units)


def from_units(units: Any) -> Decimal:
    """The quantity of a stored unit count (0 for a missing value)."""
    if units is None:
        return Decimal(0)
    return (Decimal(int(units)) / SCALE).normalize() + Decimal(0)


def number(quantity: Decimal) -> int | float:
    """JSON form: `38` or `2.5`."""
    return json_number(quantity)


def apply_change(before: Decimal, change: Decimal) -> tuple[Decimal, Decimal]:
    """(before, after) of one change, computed as the database does it (in units)."""
    after = from_units(to_units(before) + to_units(change))
    return before, after
