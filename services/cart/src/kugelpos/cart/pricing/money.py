"""Money helpers: `Decimal` end to end, never float arithmetic.

The currency's number of decimal places (`digits`) is a parameter everywhere; yen has 0.
`RoundMethod` (commons `taxes`) is the master/config vocabulary: `Round` = half-up, `Floor`,
`Ceil`.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal, InvalidOperation

from kugelpos.common.taxes import RoundMethod

ZERO = Decimal(0)
YEN_DIGITS = 0


_DECIMAL_ROUNDING = {
    RoundMethod.ROUND: ROUND_HALF_UP,
    RoundMethod.FLOOR: ROUND_FLOOR,
    RoundMethod.CEIL: ROUND_CEILING,
}


def to_decimal(value: Decimal | int | str | float) -> Decimal:
    """Exact conversion; a float goes through its shortest repr (`0.1` → `Decimal("0.1")`),
    never through its binary value. NaN and infinities are refused."""
    if isinstance(value, bool):
        raise TypeError("a bool is not an amount")
    if isinstance(value, float):
        value = repr(value)
    try:
        result = value if isinstance(value, Decimal) else Decimal(value)
    except InvalidOperation as exc:
        raise ValueError(f"not a number: {value!r}") from exc
    if not result.is_finite():
        raise ValueError(f"not a finite number: {value!r}")
    return result


def quantum(digits: int) -> Decimal:
    """The smallest step at `digits` decimal places: 0 → 1, 2 → 0.01."""
    return Decimal(1).scaleb(-digits)


def round_money(value: Decimal, method: RoundMethod | str, digits: int = YEN_DIGITS) -> Decimal:
    """Round at `digits` decimal places (negative digits round to tens, hundreds...)."""
    rounding = _DECIMAL_ROUNDING[RoundMethod(method)]
    if digits >= 0:
        return value.quantize(quantum(digits), rounding=rounding)
    whole = value.scaleb(digits).quantize(Decimal(1), rounding=rounding)
    return (whole.scaleb(-digits)).quantize(Decimal(1))


def floor_money(value: Decimal, digits: int = YEN_DIGITS) -> Decimal:
    return round_money(value, RoundMethod.FLOOR, digits)


def is_multiple_of_quantum(value: Decimal, digits: int = YEN_DIGITS) -> bool:
    """True when `value` has no more than `digits` decimal places."""
    return value == value.quantize(quantum(digits), rounding=ROUND_FLOOR)


def money_sum(values: Iterable[Decimal]) -> Decimal:
    """Exact sum (Decimal addition of finite values never rounds at these magnitudes)."""
    return sum(values, ZERO)


def normalize(value: Decimal) -> Decimal:
    """Canonical form for comparison and display: `2000.00` and `2E+3` both become `2000`."""
    if value == value.to_integral_value():
        return value.quantize(Decimal(1))
    return value.normalize()
