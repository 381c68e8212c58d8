"""Subtotal discounts and their allocation (spec §5.4 with the §18.9 fixes)."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from kugelpos.cart import operations as ops
from kugelpos.cart.domain.models import Discount, DiscountType, LineItem
from kugelpos.cart.errors import (
    BalanceLessThanDiscountError,
    CartValidationError,
    DiscountAllocationError,
)
from kugelpos.cart.pricing.money import RoundMethod
from kugelpos.cart.pricing.subtotal_discounts import (
    allocate,
    apply_subtotal_discounts,
    compute_discount_amounts,
    discountable_amount,
)

R = RoundMethod.ROUND


def ln(no, amount, *, restricted=False, cancelled=False, qty=1):
    return LineItem(
        line_no=no,
        item_code=f"I{no}",
        tax_code="01",
        unit_price=D(amount) / qty,
        quantity=qty,
        amount=D(amount),
        is_discount_restricted=restricted,
        is_cancelled=cancelled,
    )


def disc(kind, value, seq=1):
    t = DiscountType.PERCENTAGE if kind == "p" else DiscountType.AMOUNT
    return Discount(seq_no=seq, discount_type=t, discount_value=D(value))


def shares(lines):
    return [line.allocated_discount_amount for line in lines]


def test_discountable_amount_skips_cancelled_and_restricted():
    lines = [ln(1, 100), ln(2, 200, restricted=True), ln(3, 300, cancelled=True)]
    assert discountable_amount(lines) == 100


def test_every_subtotal_discount_stays_allocated():
    # v1 reset the allocations per discount: only the last one reduced the tax target [quirk].
    lines = [ln(1, 1000), ln(2, 500)]
    new_lines, discounts = apply_subtotal_discounts(lines, [disc("a", 150, 1), disc("p", 10, 2)], R)
    assert [d.discount_amount for d in discounts] == [150, 150]
    assert [[a.seq_no for a in line.discounts_allocated] for line in new_lines] == [[1, 2], [1, 2]]
    assert [[a.discount_amount for a in line.discounts_allocated] for line in new_lines] == [
        [100, 100],
        [50, 50],
    ]
    assert sum(shares(new_lines)) == 300


def test_percentages_do_not_compound():
    _, discounts = apply_subtotal_discounts([ln(1, 1000)], [disc("p", 10, 1), disc("p", 10, 2)], R)
    assert [d.discount_amount for d in discounts] == [100, 100]


def test_restricted_lines_get_nothing_and_do_not_break_the_remainder_pass():
    # v1: a restricted line reached in the remainder pass had no allocation entry -> 500 [quirk].
    lines = [ln(1, 5000, restricted=True), ln(2, 1000), ln(3, 1000), ln(4, 1000)]
    new_lines, (d,) = apply_subtotal_discounts(lines, [disc("a", 100)], R)
    assert shares(new_lines) == [0, 34, 33, 33]
    assert new_lines[0].discounts_allocated == ()
    assert d.discount_amount == 100


def test_percentage_base_excludes_restricted_lines():
    lines = [ln(1, 1000, restricted=True), ln(2, 1000)]
    _, (d,) = apply_subtotal_discounts(lines, [disc("p", 10)], R)
    assert d.discount_amount == 100


def test_largest_remainder_picks_largest_fractions():
    # 100 over 600/300/100 -> 60, 30, 10 exactly; 10 over 500/300/200 -> 5, 3, 2
    assert allocate(
        D(100), [ln(1, 600), ln(2, 300), ln(3, 100)], {1: D(600), 2: D(300), 3: D(100)}
    ) == {
        1: 60,
        2: 30,
        3: 10,
    }
    # 7 over 1/1/1 (x100): 2.333 each -> floors 2,2,2, remainder 1 to the first (ties by line order)
    lines = [ln(1, 100), ln(2, 100), ln(3, 100)]
    assert list(allocate(D(7), lines, {1: D(100), 2: D(100), 3: D(100)}).values()) == [3, 2, 2]
    # 10 over 450/350/200: 4.5, 3.5, 2.0 -> floors 4,3,2 -> remainder 1 to 450 (fraction .5, larger)
    lines = [ln(1, 350), ln(2, 450), ln(3, 200)]
    assert allocate(D(10), lines, {1: D(350), 2: D(450), 3: D(200)}) == {1: 3, 2: 5, 3: 2}


def test_allocation_never_exceeds_a_line_and_fills_fractional_capacities():
    lines = [ln(1, "1.5"), ln(2, "1.5")]
    result = allocate(D(3), lines, {1: D("1.5"), 2: D("1.5")})
    assert result == {1: D("1.5"), 2: D("1.5")}


def test_allocation_failure_is_402004():
    with pytest.raises(DiscountAllocationError) as err:
        allocate(D(10), [ln(1, 5)], {1: D(5)})
    assert err.value.error_code == "402004"
    with pytest.raises(DiscountAllocationError):
        allocate(D(1), [ln(1, 0)], {1: D(0)})


def test_zero_discount_allocates_zero():
    assert allocate(D(0), [ln(1, 100)], {1: D(100)}) == {1: 0}


def test_discounts_are_capped_by_the_base_when_not_strict():
    lines = [ln(1, 300)]
    new_lines, discounts = apply_subtotal_discounts(
        lines, [disc("a", 200, 1), disc("a", 200, 2)], R
    )
    assert [d.discount_amount for d in discounts] == [200, 100]
    assert shares(new_lines) == [300]


def test_strict_mode_refuses_discounts_above_the_base():
    with pytest.raises(BalanceLessThanDiscountError) as err:
        compute_discount_amounts([disc("a", 301)], [ln(1, 300)], R, strict=True)
    assert (err.value.error_code, err.value.status_code) == ("402003", 400)
    with pytest.raises(BalanceLessThanDiscountError):
        compute_discount_amounts([disc("p", 60, 1), disc("p", 50, 2)], [ln(1, 300)], R, strict=True)


def test_allocations_are_reset_when_discounts_are_removed():
    lines, _ = apply_subtotal_discounts([ln(1, 100)], [disc("a", 10)], R)
    lines, discounts = apply_subtotal_discounts(lines, [], R)
    assert discounts == () and lines[0].discounts_allocated == ()


# --- through the operations ---------------------------------------------------------------


def test_operation_replaces_previous_subtotal_discounts(b):
    cart = ops.subtotal(b.cart_with((b.item("A", 1000), 1)))
    cart = ops.set_subtotal_discounts(cart, [b.amt(100), b.amt(50)])
    assert cart.total_amount == 850
    cart = ops.set_subtotal_discounts(cart, [b.pct(5)])
    assert [d.discount_amount for d in cart.subtotal_discounts] == [50]
    assert cart.total_amount == 950
    assert ops.set_subtotal_discounts(cart, []).total_amount == 1000


def test_operation_refuses_amount_above_discountable_amount(b):
    cart = ops.subtotal(b.cart_with((b.item("A", 1000), 1), (b.item("R", 500, restricted=True), 1)))
    with pytest.raises(BalanceLessThanDiscountError):
        ops.set_subtotal_discounts(cart, [b.amt(1001)])
    assert ops.set_subtotal_discounts(cart, [b.amt(1000)]).total_amount == 500


def test_operation_refuses_a_discount_that_makes_the_balance_negative(b):
    cart = ops.subtotal(b.cart_with((b.item("A", 1000), 1)))
    cart = ops.add_payments(cart, [b.pay("11", 1000)])  # balance 100
    with pytest.raises(BalanceLessThanDiscountError):
        ops.set_subtotal_discounts(cart, [b.amt(200)])
    assert ops.set_subtotal_discounts(cart, [b.amt(90)]).balance_amount == 1  # 910+91-1000


@pytest.mark.parametrize(
    ("kind", "value"), [("DiscountPercentage", 101), ("DiscountPercentage", -1), ("X", 1)]
)
def test_operation_validates_percentages_and_types_with_400(b, kind, value):
    cart = ops.subtotal(b.cart_with((b.item("A", 1000), 1)))
    with pytest.raises(CartValidationError) as err:
        ops.set_subtotal_discounts(cart, [ops.DiscountRequest(kind, value)])
    assert err.value.status_code == 400


def test_subtotal_discounts_are_recomputed_after_resume(b):
    # v1 kept the 10 % computed on the old lines after resume-item-entry [quirk].
    cart = ops.subtotal(b.cart_with((b.item("A", 1000), 1)))
    cart = ops.set_subtotal_discounts(cart, [b.pct(10)])
    cart = ops.resume_item_entry(cart)
    cart = ops.add_items(cart, [ops.ItemEntry(b.item("B", 1000), 1)])
    assert cart.subtotal_discounts[0].discount_amount == 200
    assert shares(cart.line_items) == [100, 100]
    assert cart.total_amount == 1800


def test_amount_discount_is_capped_when_lines_shrink_after_resume(b):
    cart = ops.subtotal(b.cart_with((b.item("A", 1000), 1), (b.item("B", 200), 1)))
    cart = ops.set_subtotal_discounts(cart, [b.amt(500)])
    cart = ops.cancel_line_item(ops.resume_item_entry(cart), 1)
    assert cart.subtotal_discounts[0].discount_amount == 200
    assert cart.total_amount == 0 and cart.total_amount_with_tax == 0
