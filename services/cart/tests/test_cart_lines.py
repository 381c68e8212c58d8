"""Line amounts, line discounts and line-input validation (spec §5.1, §5.2, §18.9-10)."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from kugelpos.cart.domain.masters import ItemMaster
from kugelpos.cart.domain.models import Discount, DiscountType, LineItem
from kugelpos.cart.errors import (
    AmountLessThanDiscountError,
    CartValidationError,
    LineItemNotFoundError,
)
from kugelpos.cart.pricing.lines import (
    compute_line,
    line_index,
    make_discount,
    percentage_discount_amount,
    resolve_unit_price,
    validate_quantity,
    validate_unit_price,
)
from kugelpos.cart.pricing.money import RoundMethod

R, F, C = RoundMethod.ROUND, RoundMethod.FLOOR, RoundMethod.CEIL


def line(price, qty, *discounts, cancelled=False):
    return LineItem(
        line_no=1,
        item_code="X",
        tax_code="01",
        unit_price=D(price),
        quantity=qty,
        discounts=tuple(
            Discount(seq_no=i, discount_type=t, discount_value=D(v))
            for i, (t, v) in enumerate(discounts, start=1)
        ),
        is_cancelled=cancelled,
    )


P, A = DiscountType.PERCENTAGE, DiscountType.AMOUNT


def test_amount_without_discounts():
    assert compute_line(line(298, 3), R).amount == 894
    assert compute_line(line("10.5", 2), R).amount == D(21)  # fractional prices allowed


@pytest.mark.parametrize(
    ("method", "expected"), [(R, 26), (F, 24), (C, 26)]
)  # 12.5 per unit: Round 13, Floor 12, Ceil 13
def test_percentage_per_unit_rounding_modes(method, expected):
    assert compute_line(line(125, 2, (P, 10)), method).discounts[0].discount_amount == expected


def test_ceil_rounds_up_per_unit():
    # 333 * 10 % = 33.3 per unit: Ceil 34 * 3 = 102
    assert compute_line(line(333, 3, (P, 10)), C).discounts[0].discount_amount == 102


def test_discount_amounts_are_reset_each_recalc():
    stale = line(1000, 1, (P, 10)).model_copy()
    stale = stale.model_copy(
        update={"discounts": (stale.discounts[0].model_copy(update={"discount_amount": D(999)}),)}
    )
    assert compute_line(stale, R).discounts[0].discount_amount == 100


def test_hundred_percent_discount_gives_zero_amount():
    computed = compute_line(line(125, 3, (P, 100)), R)
    assert computed.amount == 0
    assert computed.discounts[0].discount_amount == 375


def test_percentage_never_exceeds_the_per_unit_target():
    # 0.5 per unit at 100 %: Round would give 1 per unit; capped at 0.5.
    assert percentage_discount_amount(D("0.5"), 4, D(100), R) == D(2)
    assert compute_line(line("0.5", 4, (P, 100)), C).amount == 0


def test_amount_discount_is_for_the_whole_line_and_unrounded():
    computed = compute_line(line(100, 3, (A, 50)), R)
    assert computed.discounts[0].discount_amount == 50 and computed.amount == 250


def test_discounts_above_the_line_amount_are_refused():
    with pytest.raises(AmountLessThanDiscountError) as err:
        compute_line(line(100, 1, (A, 101)), R)
    assert (err.value.error_code, err.value.status_code) == ("402002", 400)
    # the amount discount comes on top of the percentage: 10 + 95 > 100
    with pytest.raises(AmountLessThanDiscountError):
        compute_line(line(100, 1, (P, 10), (A, 95)), R)
    assert compute_line(line(100, 1, (A, 100)), R).amount == 0


def test_cancelled_lines_are_left_alone():
    cancelled = line(100, 1, (A, 500), cancelled=True)
    assert compute_line(cancelled, R) is cancelled


@pytest.mark.parametrize("qty", [0, -1, 100_000, 1.5, True, "2"])
def test_quantity_validation(qty):
    with pytest.raises(CartValidationError) as err:
        validate_quantity(qty)
    assert (err.value.error_code, err.value.status_code) == ("300001", 400)


def test_quantity_bounds_are_accepted():
    assert validate_quantity(1) == 1 and validate_quantity(99_999) == 99_999
    assert validate_quantity(5, max_quantity=5) == 5


def test_zero_quantity_line_is_refused_not_divided_by_zero():
    with pytest.raises(CartValidationError):
        compute_line(line(100, 0, (P, 10)), R)


@pytest.mark.parametrize("line_no", [0, -1, 4, True, "1"])
def test_line_number_outside_1_to_n_is_404(line_no):
    lines = [line(1, 1)] * 3
    with pytest.raises(LineItemNotFoundError) as err:
        line_index(lines, line_no)
    assert (err.value.error_code, err.value.status_code) == ("100001", 404)


def test_line_index_is_zero_based_position():
    assert [line_index([line(1, 1)] * 3, n) for n in (1, 2, 3)] == [0, 1, 2]


@pytest.mark.parametrize(
    ("kind", "value"),
    [
        ("DiscountPercentage", -1),
        ("DiscountPercentage", "100.01"),
        ("DiscountAmount", -5),
        ("DiscountAmount", "10.5"),  # more decimals than yen has
        ("Discount", 10),
        ("DiscountAmount", "abc"),
        ("DiscountAmount", float("nan")),
    ],
)
def test_invalid_discounts_are_400_not_500(kind, value):
    with pytest.raises(CartValidationError) as err:
        make_discount(kind, value, seq_no=1)
    assert err.value.status_code == 400


def test_valid_discounts():
    d = make_discount("DiscountPercentage", 10.0, seq_no=2, detail="staff")
    assert (d.discount_type, d.discount_value, d.seq_no, d.discount_detail) == (P, 10, 2, "staff")
    assert make_discount("DiscountPercentage", 0, seq_no=1).discount_value == 0
    assert make_discount("DiscountAmount", "10.5", seq_no=1, digits=2).discount_value == D("10.5")


def test_price_source():
    master = ItemMaster(item_code="X", tax_code="01", unit_price=D(120), store_price=D(110))
    assert resolve_unit_price(D(99), master) == 99
    assert resolve_unit_price(None, master) == 110
    assert resolve_unit_price(D(0), master) == 110  # 0 means "from the master" (spec §5.1)
    no_store = master.model_copy(update={"store_price": None})
    assert resolve_unit_price(None, no_store) == 120
    assert resolve_unit_price(None, master.model_copy(update={"store_price": D(0)})) == 120
    with pytest.raises(CartValidationError):
        resolve_unit_price(D(-1), master)


def test_unit_price_validation():
    assert validate_unit_price(0) == 0
    assert validate_unit_price(12.5) == D("12.5")
    for bad in (-1, "x", float("inf")):
        with pytest.raises(CartValidationError):
            validate_unit_price(bad)
