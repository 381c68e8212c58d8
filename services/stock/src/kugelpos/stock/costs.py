"""Costs at a store, pure: the moving-average cost of an item and the value of its stock.

A cost is stored like a quantity, as integer *cost units* of 1/10,000 of the currency
(`average_cost_units`, `unit_cost_units`): exact, and read back as the same `Decimal`.

Moving average (docs/stock.md, Receiving): a receipt of `q` at unit cost `c` into stock
`Q` at average cost `A` gives

    A' = (Q * A + q * c) / (Q + q)      when Q > 0
    A' = c                               when Q <= 0 (nothing, or negative stock, on hand)

rounded half-up to 4 decimals (one cost unit). The value of an item's stock is quantity x
average cost, rounded half-up (away from zero) to 4 decimals; a store's total is the sum of
its items' values. Sales, returns and adjustments take goods
out or in at the average and leave it unchanged.
"""

from __future__ import annotations

from decimal import Decimal

from kugelpos.common.money import amount_in

from .quantities import SCALE as QUANTITY_SCALE

COST_PLACES = 4
COST_SCALE = 10**COST_PLACES
# A unit cost from a client: a finite JSON number, at most 4 decimals and 15 digits.
Cost = amount_in(COST_PLACES, max_digits=15)


def to_cost_units(cost: Decimal) -> int:
    units = cost * COST_SCALE
    if units != units.to_integral_value():
        raise ValueError(f"{cost} has more than {COST_PLACES} decimal places")
    return int(units)


def from_cost_units(units: int | None) -> Decimal:
    if units is None:
        return Decimal(0)
    return (Decimal(int(units)) / COST_SCALE).normalize() + Decimal(0)


def moving_average(
    before_units: int, average_cost_units: int, received_units: int, unit_cost_units: int
) -> int:
    """The average cost (cost units) after receiving `received_units` (quantity units, > 0)
    at `unit_cost_units` into `before_units` at `average_cost_units`. Integer arithmetic
    throughout: the quantity scale cancels out of the quotient."""
    if before_units <= 0:
        return unit_cost_units
    total = before_units * average_cost_units + received_units * unit_cost_units
    return divide_half_up(total, before_units + received_units)


def stock_value_units(quantity_units: int, average_cost_units: int) -> int:
    """quantity x average cost in cost units, rounded half-up (away from zero) to one."""
    return divide_half_up(quantity_units * average_cost_units, QUANTITY_SCALE)


def stock_value(quantity_units: int, average_cost_units: int) -> Decimal:
    return from_cost_units(stock_value_units(quantity_units, average_cost_units))


def divide_half_up(numerator: int, denominator: int) -> int:
    """`numerator / denominator` (denominator > 0) rounded to the nearest integer, halves
    away from zero: exact for integers of any size (no Decimal context precision)."""
    quotient, remainder = divmod(abs(numerator), denominator)
    if 2 * remainder >= denominator:
        quotient += 1
    return quotient if numerator >= 0 else -quotient
