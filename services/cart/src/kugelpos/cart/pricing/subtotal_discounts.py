"""Subtotal (cart-level) discounts and their allocation over lines (spec §5.4 with the §18.9
fixes).

* The base of a subtotal discount is the **discountable amount**: Σ `amount` of the lines that
  are neither cancelled nor discount-restricted. A percentage discount is
  `R_d(base * value / 100)`; an amount discount is its value.
* Discounts are recomputed on every recalc (v1 kept stale amounts after resume-item-entry).
  Together they never exceed the base: when the operation that sets them would, it is refused
  (402003); when a later change shrinks the base (a line cancelled after resume), the later
  discounts are capped so the cart stays consistent.
* **Every** subtotal discount is allocated (v1 kept only the last one), by the largest-remainder
  method: each eligible line first gets `floor(discount * line.amount / base)` at the currency's
  precision, then the units left over go one by one to the lines with the largest fractional
  parts (ties: larger amount first, then line order). The allocations of one discount sum to it
  exactly: under-allocation is filled and over-allocation cannot happen (v1 rounded each share
  half-up and kept 3 + 3 for a discount of 5).
* Restricted and cancelled lines never receive an allocation, and are never touched by the
  remainder pass (v1 crashed with a 500 there). No line is allocated more than its amount, so
  no tax target goes negative.
* Allocations only reduce the tax targets; a line's `amount` is unchanged.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from ..domain.models import Discount, DiscountType, LineItem
from ..errors import BalanceLessThanDiscountError, DiscountAllocationError
from .money import YEN_DIGITS, ZERO, RoundMethod, floor_money, quantum, round_money

HUNDRED = Decimal(100)


def is_discountable(line: LineItem) -> bool:
    return not line.is_cancelled and not line.is_discount_restricted


def discountable_amount(lines: Sequence[LineItem]) -> Decimal:
    """Σ amount of the lines a subtotal discount may reduce."""
    return sum((line.amount for line in lines if is_discountable(line)), ZERO)


def requested_amount(
    discount: Discount, base: Decimal, method: RoundMethod, digits: int = YEN_DIGITS
) -> Decimal:
    """The amount a subtotal discount asks for, before any cap."""
    if discount.discount_type is DiscountType.PERCENTAGE:
        return round_money(base * discount.discount_value / HUNDRED, method, digits)
    return discount.discount_value


def compute_discount_amounts(
    discounts: Sequence[Discount],
    lines: Sequence[LineItem],
    method: RoundMethod,
    digits: int = YEN_DIGITS,
    *,
    strict: bool = False,
) -> tuple[Discount, ...]:
    """Set `discount_amount` of each subtotal discount. Percentages are taken of the whole
    base (they do not compound). With `strict`, discounts that together exceed the base are
    refused (402003); otherwise each is capped to what is left of the base."""
    base = discountable_amount(lines)
    remaining = base
    result = []
    for discount in discounts:
        wanted = requested_amount(discount, base, method, digits)
        if wanted > remaining:
            if strict:
                raise BalanceLessThanDiscountError(
                    f"subtotal discounts exceed the discountable amount {base}"
                )
            wanted = remaining
        remaining -= wanted
        result.append(discount.model_copy(update={"discount_amount": wanted}))
    return tuple(result)


def allocate(
    amount: Decimal,
    lines: Sequence[LineItem],
    capacities: dict[int, Decimal],
    digits: int = YEN_DIGITS,
) -> dict[int, Decimal]:
    """Split `amount` over `lines` in proportion to their `amount` (largest remainder).

    `capacities` (line_no → what the line can still absorb) bounds every share; the result
    maps line_no → share and always sums to `amount` exactly, or raises 402004 when the lines
    cannot absorb it (which the caps in `compute_discount_amounts` rule out).
    """
    weighted = [line for line in lines if line.amount > 0]
    shares = {line.line_no: ZERO for line in lines}
    if amount == 0:
        return shares
    total = sum((line.amount for line in weighted), ZERO)
    if total <= 0:
        raise DiscountAllocationError(f"no line can take a subtotal discount of {amount}")
    step = quantum(digits)
    fractions: dict[int, Decimal] = {}
    for line in weighted:
        exact = amount * line.amount / total
        floored = floor_money(exact, digits)
        shares[line.line_no] = min(floored, capacities[line.line_no])
        fractions[line.line_no] = exact - floored
    remainder = amount - sum(shares.values(), ZERO)
    by_fraction = sorted(weighted, key=lambda ln: (-fractions[ln.line_no], -ln.amount, ln.line_no))
    by_amount = sorted(weighted, key=lambda ln: (-ln.amount, ln.line_no))
    # Pass 1: at most one unit per line, largest fractions first. Pass 2 only runs when caps
    # below one unit (fractional amounts) left something over.
    for order, unit in ((by_fraction, step), (by_amount, None)):
        for line in order:
            if remainder <= 0:
                break
            room = capacities[line.line_no] - shares[line.line_no]
            add = min(remainder, room) if unit is None else min(unit, remainder, room)
            if add > 0:
                shares[line.line_no] += add
                remainder -= add
    if remainder > 0:
        raise DiscountAllocationError(f"{remainder} of a subtotal discount could not be allocated")
    return shares


def apply_subtotal_discounts(
    lines: Sequence[LineItem],
    discounts: Sequence[Discount],
    method: RoundMethod,
    digits: int = YEN_DIGITS,
) -> tuple[tuple[LineItem, ...], tuple[Discount, ...]]:
    """Recompute the subtotal discounts over `lines` (whose `amount` is already computed) and
    set every line's `discounts_allocated`. Returns (lines, discounts)."""
    computed = compute_discount_amounts(discounts, lines, method, digits)
    eligible = [line for line in lines if is_discountable(line)]
    capacities = {line.line_no: line.amount for line in eligible}
    allocated: dict[int, list[Discount]] = {line.line_no: [] for line in eligible}
    for discount in computed:
        shares = allocate(discount.discount_amount, eligible, capacities, digits)
        for line_no, share in shares.items():
            capacities[line_no] -= share
            allocated[line_no].append(discount.model_copy(update={"discount_amount": share}))
    new_lines = tuple(
        line.model_copy(update={"discounts_allocated": tuple(allocated.get(line.line_no, ()))})
        if line.discounts_allocated or line.line_no in allocated
        else line
        for line in lines
    )
    return new_lines, computed
