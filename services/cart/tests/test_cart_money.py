"""Rounding helpers: half-up, floor, ceil at a digit; exact conversions."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from kugelpos.cart.pricing.money import (
    RoundMethod,
    is_multiple_of_quantum,
    money_sum,
    normalize,
    quantum,
    round_money,
    to_decimal,
)


@pytest.mark.parametrize(
    ("value", "method", "digits", "expected"),
    [
        ("12.5", "Round", 0, "13"),
        ("12.4999", "Round", 0, "12"),
        ("-12.5", "Round", 0, "-13"),  # half away from zero
        ("12.5", "Floor", 0, "12"),
        ("-12.5", "Floor", 0, "-13"),  # toward -infinity
        ("12.01", "Ceil", 0, "13"),
        ("12.00", "Ceil", 0, "12"),
        ("-12.5", "Ceil", 0, "-12"),
        ("1.005", "Round", 2, "1.01"),
        ("1.009", "Floor", 2, "1.00"),
        ("1.001", "Ceil", 2, "1.01"),
        ("22.074074", "Floor", 0, "22"),
        ("1234", "Round", -1, "1230"),
        ("1235", "Round", -1, "1240"),
        ("1231", "Ceil", -2, "1300"),
    ],
)
def test_round_money(value, method, digits, expected):
    result = round_money(D(value), method, digits)
    assert result == D(expected)
    if digits >= 0:
        assert result.as_tuple().exponent == -digits


def test_round_method_values_are_the_master_vocabulary():
    assert [m.value for m in RoundMethod] == ["Round", "Floor", "Ceil"]
    with pytest.raises(ValueError):
        round_money(D(1), "HalfEven")


def test_to_decimal_never_goes_through_binary_floats():
    assert to_decimal(0.1) == D("0.1")
    assert to_decimal(2648.0) == D("2648")
    assert to_decimal("10.50") == D("10.50")
    assert to_decimal(7) == D(7)
    for bad in ("abc", "NaN", "Infinity", float("inf")):
        with pytest.raises(ValueError):
            to_decimal(bad)
    with pytest.raises(TypeError):
        to_decimal(True)


def test_quantum_and_multiples():
    assert quantum(0) == 1 and quantum(2) == D("0.01")
    assert is_multiple_of_quantum(D("10.0"), 0)
    assert not is_multiple_of_quantum(D("10.5"), 0)
    assert is_multiple_of_quantum(D("10.25"), 2)
    assert not is_multiple_of_quantum(D("10.255"), 2)


def test_sum_and_normalize():
    assert money_sum([D("0.1")] * 10) == 1
    assert money_sum([]) == 0
    assert str(normalize(D("2000.00"))) == "2000"
    assert str(normalize(D("2E+3"))) == "2000"
    assert str(normalize(D("12.50"))) == "12.5"
