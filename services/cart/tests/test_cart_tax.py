"""Taxes per tax-code group (spec §5.3, master-data §A9)."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from kugelpos.cart.domain.masters import DEFAULT_TAX_MASTER, TaxMaster, tax_master_by_code
from kugelpos.cart.domain.models import Discount, DiscountType, LineItem, TaxType
from kugelpos.cart.errors import TaxCodeNotFoundError
from kugelpos.cart.pricing.money import RoundMethod
from kugelpos.cart.pricing.tax import compute_taxes, group_tax_amount

MASTER = tax_master_by_code(DEFAULT_TAX_MASTER)


def ln(no, amount, tax, qty=1, allocated=0, cancelled=False):
    return LineItem(
        line_no=no,
        item_code=f"I{no}",
        tax_code=tax,
        unit_price=D(amount) / qty,
        quantity=qty,
        amount=D(amount),
        discounts_allocated=(
            (
                Discount(
                    discount_type=DiscountType.AMOUNT,
                    discount_value=D(allocated),
                    discount_amount=D(allocated),
                ),
            )
            if allocated
            else ()
        ),
        is_cancelled=cancelled,
    )


def test_default_master_is_the_spec_table():
    assert [
        (t.tax_code, t.tax_type.value, t.rate, t.round_digit, t.round_method)
        for t in DEFAULT_TAX_MASTER
    ] == [
        ("00", "Exempt", 0, 0, None),
        ("01", "External", 10, -1, RoundMethod.FLOOR),
        ("02", "Internal", 10, -1, RoundMethod.FLOOR),
        ("11", "External", 8, -1, RoundMethod.FLOOR),
        ("12", "Internal", 8, -1, RoundMethod.FLOOR),
    ]


@pytest.mark.parametrize(
    ("code", "target", "tax"),
    [
        ("01", 2000, 200),
        ("01", 999, 99),  # 99.9 floored
        ("11", 1999, 159),  # 159.92
        ("02", 1100, 100),
        ("02", 990, 90),
        ("12", 298, 22),  # 22.07
        ("12", 108, 8),
        ("00", 150, 0),
        ("01", 0, 0),
    ],
)
def test_group_tax_default_master(code, target, tax):
    assert group_tax_amount(MASTER[code], D(target)) == tax


def test_round_digit_minus_one_means_whole_units_not_tens():
    # [quirk kept on purpose, §18.12] -1 rounds to yen: 1999 * 8 % = 159.92 -> 159, not 150.
    assert group_tax_amount(MASTER["11"], D(1999)) == 159


def _master(method, digit=0, kind=TaxType.EXTERNAL, rate=10):
    return TaxMaster(
        tax_code="T",
        tax_type=kind,
        tax_name="t",
        rate=D(rate),
        round_digit=digit,
        round_method=method,
    )


@pytest.mark.parametrize(
    ("method", "digit", "target", "expected"),
    [
        (RoundMethod.FLOOR, 0, "995", "99"),
        (RoundMethod.ROUND, 0, "995", "100"),  # 99.5 half-up
        (RoundMethod.ROUND, 0, "994", "99"),
        (RoundMethod.CEIL, 0, "991", "100"),
        (RoundMethod.FLOOR, 1, "995.5", "99.5"),  # 99.55
        (RoundMethod.CEIL, 2, "0.001", "0.01"),
        (None, 0, "995", "100"),  # no method: half-up at the digit, never a raw fraction
    ],
)
def test_master_rounding(method, digit, target, expected):
    result = group_tax_amount(_master(method, digit), D(target))
    assert result == D(expected)
    assert result.as_tuple().exponent == -max(digit, 0)


def test_internal_tax_formula_equals_the_spec_formula():
    master = _master(RoundMethod.ROUND, 6, TaxType.INTERNAL, 8)
    for target in (D(1), D(298), D("1234.5"), D(10**9)):
        spec = target / (1 + master.rate / 100) * master.rate / 100
        assert group_tax_amount(master, target) == spec.quantize(D("0.000001"))


def test_taxes_are_grouped_in_order_of_first_appearance():
    lines = [ln(1, 500, "12"), ln(2, 1000, "01", qty=2), ln(3, 298, "12"), ln(4, 150, "00")]
    taxes = compute_taxes(lines, MASTER)
    assert [(t.tax_no, t.tax_code, t.target_amount, t.target_quantity) for t in taxes] == [
        (1, "12", 798, 2),
        (2, "01", 1000, 2),
        (3, "00", 150, 1),
    ]
    assert [t.tax_amount for t in taxes] == [59, 100, 0]  # 798*8/108 = 59.11


def test_rounding_is_per_group_never_per_line():
    # Ten lines of 99 at 10 % external: per line 9.9 -> 9 (x10 = 90); per group 990 -> 99.
    lines = [ln(i, 99, "01") for i in range(1, 11)]
    (tax,) = compute_taxes(lines, MASTER)
    assert tax.tax_amount == 99


def test_cancelled_lines_and_allocations():
    lines = [ln(1, 1000, "01", allocated=100), ln(2, 5000, "01", cancelled=True)]
    (tax,) = compute_taxes(lines, MASTER)
    assert (tax.target_amount, tax.tax_amount, tax.target_quantity) == (900, 90, 1)
    assert compute_taxes([ln(1, 10, "99", cancelled=True)], MASTER) == ()


def test_unknown_tax_code_is_404():
    with pytest.raises(TaxCodeNotFoundError) as err:
        compute_taxes([ln(1, 100, "99")], MASTER)
    assert (err.value.error_code, err.value.status_code) == ("100001", 404)


def test_tax_names_and_types_come_from_the_master():
    (tax,) = compute_taxes([ln(1, 100, "02")], MASTER)
    assert (tax.tax_name, tax.tax_type) == ("内税10%", TaxType.INTERNAL)
