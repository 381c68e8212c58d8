"""Taxes per tax-code group (spec §5.3).

A group's target is the sum over its non-cancelled lines of `amount - allocated subtotal
discounts`; the tax is computed and rounded **once per group**, never per line, so it cannot
depend on the order of the lines (only `tax_no`, the order of first appearance, does):

* External: `target * rate / 100` (added on top of the total);
* Internal: `target * rate / (100 + rate)` (contained in the price; the same value as the
  spec's `target / (1 + rate/100) * rate/100`, with one division instead of two);
* Exempt: 0.

Rounding uses the master's `round_method` at `max(round_digit, 0)` decimal places: every
`round_digit <= 0` (the default table's `-1` included) means whole units (§5.3, §18.12). A
master without a method is rounded half-up there too, so no amount ever carries a
non-terminating fraction.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal

from ..domain.masters import TaxMaster
from ..domain.models import LineItem, Tax, TaxType
from ..errors import TaxCodeNotFoundError
from .money import ZERO, RoundMethod, round_money

HUNDRED = Decimal(100)


def tax_round_digits(master: TaxMaster) -> int:
    return max(master.round_digit, 0)


def group_tax_amount(master: TaxMaster, target: Decimal) -> Decimal:
    """The rounded tax of one group with the given target amount."""
    if master.tax_type is TaxType.EXEMPT or not master.rate:
        return round_money(ZERO, RoundMethod.ROUND, tax_round_digits(master))
    if master.tax_type is TaxType.EXTERNAL:
        raw = target * master.rate / HUNDRED
    else:
        raw = target * master.rate / (HUNDRED + master.rate)
    return round_money(raw, master.round_method or RoundMethod.ROUND, tax_round_digits(master))


def compute_taxes(
    lines: Iterable[LineItem], tax_master: Mapping[str, TaxMaster]
) -> tuple[Tax, ...]:
    """One `Tax` per tax code present among the non-cancelled lines (stored-value lines carry
    none), numbered from 1 in order of first appearance. An unknown tax code is a 404 /
    100001."""
    targets: dict[str, Decimal] = {}
    quantities: dict[str, int] = {}
    for line in lines:
        if line.is_cancelled or line.is_stored_value:
            continue  # money put on a card is not a sale of goods: no tax
        targets[line.tax_code] = targets.get(line.tax_code, ZERO) + line.net_amount
        quantities[line.tax_code] = quantities.get(line.tax_code, 0) + line.quantity
    taxes = []
    for tax_no, (code, target) in enumerate(targets.items(), start=1):
        master = tax_master.get(code)
        if master is None:
            raise TaxCodeNotFoundError(f"tax code {code!r} not found in the tax master")
        taxes.append(
            Tax(
                tax_no=tax_no,
                tax_code=code,
                tax_type=master.tax_type,
                tax_name=master.tax_name,
                tax_amount=group_tax_amount(master, target),
                target_amount=target,
                target_quantity=quantities[code],
            )
        )
    return tuple(taxes)
