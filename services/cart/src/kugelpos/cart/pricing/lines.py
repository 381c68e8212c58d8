"""Line amounts and line discounts (spec §5.1, §5.2) plus the input checks of §18.10.

Per line, on every recalc:

1. every discount amount is reset;
2. percentage discounts, in list order, are computed **per unit** on what is left of the unit
   price after the earlier percentages: `R_d(per_unit_target * value / 100) * quantity`
   (125 * 2 at 10 % → 13 * 2 = 26, not 25);
3. amount discounts take their value for the whole line (no rounding);
4. `amount = unit_price * quantity - Σ discount amounts`, which must not go below zero.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from ..domain.masters import ItemMaster
from ..domain.models import Discount, DiscountType, LineItem
from ..errors import AmountLessThanDiscountError, CartValidationError, LineItemNotFoundError
from .money import YEN_DIGITS, ZERO, RoundMethod, is_multiple_of_quantum, round_money, to_decimal

HUNDRED = Decimal(100)
DEFAULT_MAX_QUANTITY = 99_999


def validate_quantity(quantity: int, max_quantity: int = DEFAULT_MAX_QUANTITY) -> int:
    """A line quantity is a whole number in 1..max_quantity (v1 accepted 0 and negatives)."""
    if isinstance(quantity, bool) or not isinstance(quantity, int):
        raise CartValidationError(f"quantity must be an integer, got {quantity!r}")
    if not 1 <= quantity <= max_quantity:
        raise CartValidationError(f"quantity must be between 1 and {max_quantity}, got {quantity}")
    return quantity


def validate_unit_price(unit_price: Decimal | int | str | float) -> Decimal:
    """A unit price is a finite number >= 0 (fractional prices are allowed, spec §5.1)."""
    try:
        price = to_decimal(unit_price)
    except (TypeError, ValueError) as exc:
        raise CartValidationError(f"invalid unit price: {unit_price!r}") from exc
    if price < 0:
        raise CartValidationError(f"unit price must not be negative, got {price}")
    return price


def resolve_unit_price(requested: Decimal | None, item: ItemMaster) -> Decimal:
    """Spec §5.1: the requested price when given and non-zero, else the store price when
    non-zero, else the item's unit price."""
    if requested is not None:
        price = validate_unit_price(requested)
        if price:
            return price
    if item.store_price:
        return validate_unit_price(item.store_price)
    return validate_unit_price(item.unit_price)


def line_index(lines: Sequence[LineItem], line_no: int) -> int:
    """Index of line `line_no` (1-based). Outside 1..N is a 404, never "the last line"."""
    if isinstance(line_no, bool) or not isinstance(line_no, int) or not 1 <= line_no <= len(lines):
        raise LineItemNotFoundError(f"line item {line_no!r} not found")
    return line_no - 1


def make_discount(
    discount_type: str,
    discount_value: Decimal | int | str | float,
    *,
    seq_no: int,
    detail: str | None = None,
    digits: int = YEN_DIGITS,
    promotion_code: str | None = None,
    promotion_type: str | None = None,
) -> Discount:
    """Validate a requested discount (400 / 300001, never 500): known type, a percentage in
    0..100, an amount >= 0 with no more decimals than the currency has."""
    try:
        kind = DiscountType(discount_type)
    except ValueError as exc:
        raise CartValidationError(f"unknown discount type: {discount_type!r}") from exc
    try:
        value = to_decimal(discount_value)
    except (TypeError, ValueError) as exc:
        raise CartValidationError(f"invalid discount value: {discount_value!r}") from exc
    if kind is DiscountType.PERCENTAGE and not ZERO <= value <= HUNDRED:
        raise CartValidationError(f"discount percentage must be within 0..100, got {value}")
    if kind is DiscountType.AMOUNT:
        if value < 0:
            raise CartValidationError(f"discount amount must not be negative, got {value}")
        if not is_multiple_of_quantum(value, digits):
            raise CartValidationError(f"discount amount has too many decimals: {value}")
    return Discount(
        seq_no=seq_no,
        discount_type=kind,
        discount_value=value,
        discount_detail=detail,
        promotion_code=promotion_code,
        promotion_type=promotion_type,
    )


def percentage_discount_amount(
    per_unit_target: Decimal,
    quantity: int,
    percent: Decimal,
    method: RoundMethod,
    digits: int = YEN_DIGITS,
) -> Decimal:
    """`R_d(per_unit_target * percent / 100) * quantity`, never more than the target itself
    (with a fractional unit price, rounding up could otherwise exceed it)."""
    per_unit = round_money(per_unit_target * percent / HUNDRED, method, digits)
    per_unit = min(max(per_unit, ZERO), per_unit_target)
    return per_unit * quantity


def compute_line(line: LineItem, method: RoundMethod, digits: int = YEN_DIGITS) -> LineItem:
    """Recompute a line's discount amounts and `amount` (cancelled lines are left as they are).

    Raises 402002 when the discounts exceed `unit_price * quantity` (e.g. a quantity was
    lowered under an amount discount): the operation is refused, the amount never negative.
    """
    if line.is_cancelled:
        return line
    if line.quantity < 1:
        raise CartValidationError(f"line {line.line_no}: quantity must be at least 1")
    gross = line.gross_amount
    amounts = [ZERO] * len(line.discounts)
    for i, discount in enumerate(line.discounts):
        if discount.discount_type is DiscountType.PERCENTAGE:
            per_unit_target = (gross - sum(amounts, ZERO)) / line.quantity
            amounts[i] = percentage_discount_amount(
                per_unit_target, line.quantity, discount.discount_value, method, digits
            )
    for i, discount in enumerate(line.discounts):
        if discount.discount_type is DiscountType.AMOUNT:
            amounts[i] = discount.discount_value
    amount = gross - sum(amounts, ZERO)
    if amount < 0:
        raise AmountLessThanDiscountError(
            f"line {line.line_no}: discounts {sum(amounts, ZERO)} exceed the line amount {gross}"
        )
    discounts = tuple(
        d if d.discount_amount == a else d.model_copy(update={"discount_amount": a})
        for d, a in zip(line.discounts, amounts, strict=True)
    )
    return line.model_copy(update={"discounts": discounts, "amount": amount})
