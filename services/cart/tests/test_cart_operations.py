"""Cart operations and the §18 edge cases: validation, all-or-nothing, consistency."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from kugelpos.cart import operations as ops
from kugelpos.cart.domain.models import Cart, CartStatus, Person
from kugelpos.cart.errors import (
    AmountLessThanDiscountError,
    BalanceGreaterThanZeroError,
    BalanceMinusError,
    CartValidationError,
    DiscountRestrictedError,
    InvalidCartOperationError,
    LineItemNotFoundError,
    SignInOutError,
    TaxCodeNotFoundError,
    TerminalStatusError,
    TransactionTypeNotAllowedError,
)
from kugelpos.cart.pricing.engine import PricingContext
from kugelpos.cart.pricing.money import RoundMethod


def create(**overrides):
    args = dict(
        cart_id="c",
        tenant_id="T1",
        store_code="S01",
        terminal_no=9,
        terminal_status="Opened",
        staff=Person(id="S001", name="Taro"),
    )
    return ops.create_cart(**(args | overrides))


def test_create_defaults():
    cart = create(
        store_name="Shibuya", user=Person(id="u1", name="Guest"), business_date="20250115"
    )
    assert (cart.cart_status, cart.transaction_type) == (CartStatus.IDLE, 101)
    assert (cart.transaction_no, cart.receipt_no) == (-1, -1)
    assert (cart.total_amount, cart.balance_amount, cart.line_items) == (0, 0, ())
    assert create(transaction_type=101).transaction_type == 101


@pytest.mark.parametrize("kind", [102, 201, 202, 999, 0, -101])
def test_a_cart_is_a_sale(kind):
    """Issue 21: a cart billed as a "return" (or any other type) would move stock and the
    drawer without an original; returns and voids exist only through their own endpoints."""
    with pytest.raises(TransactionTypeNotAllowedError) as err:
        create(transaction_type=kind)
    assert (err.value.error_code, err.value.status_code) == ("401004", 400)


@pytest.mark.parametrize("status", ["Idle", "Closed", "opened", ""])
def test_create_needs_an_open_terminal(status):
    with pytest.raises(TerminalStatusError) as err:
        create(terminal_status=status)
    assert (err.value.error_code, err.value.status_code) == ("404001", 400)


def test_create_needs_a_signed_in_staff():
    with pytest.raises(SignInOutError) as err:
        create(staff=None)
    assert err.value.error_code == "404002"


def test_lines_are_numbered_and_never_shift(b):
    cart = b.cart_with((b.item("A", 100), 1), (b.item("B", 200), 2))
    cart = ops.cancel_line_item(cart, 1)
    cart = ops.add_items(cart, [ops.ItemEntry(b.item("C", 300), 1)])
    assert [(line.line_no, line.item_code, line.is_cancelled) for line in cart.line_items] == [
        (1, "A", True),
        (2, "B", False),
        (3, "C", False),
    ]
    assert (cart.total_amount, cart.total_quantity) == (700, 3)


def test_add_items_uses_the_price_override_and_master_fields(b):
    master = b.item("A", 100, "02", category="001", restricted=True)
    cart = ops.add_items(b.new_cart(), [ops.ItemEntry(master, 2, D("80"))])
    line = cart.line_items[0]
    assert (line.unit_price, line.amount, line.tax_code, line.category_code) == (
        80,
        160,
        "02",
        "001",
    )
    assert line.is_discount_restricted and line.item_name == "Item A"


@pytest.mark.parametrize("qty", [0, -1, 100_000])
def test_add_items_validates_quantity(b, qty):
    with pytest.raises(CartValidationError):
        ops.add_items(b.new_cart(), [ops.ItemEntry(b.item("A", 100), qty)])


def test_max_quantity_is_configurable(b):
    ctx = PricingContext(max_quantity=10)
    with pytest.raises(CartValidationError):
        ops.add_items(b.new_cart(), [ops.ItemEntry(b.item("A", 100), 11)], ctx)


def test_unknown_tax_code_fails_the_add(b):
    with pytest.raises(TaxCodeNotFoundError):
        b.cart_with((b.item("A", 100, "77"), 1))


LINE_OPS = [
    lambda b, c, n: ops.cancel_line_item(c, n),
    lambda b, c, n: ops.update_line_quantity(c, n, 2),
    lambda b, c, n: ops.update_line_unit_price(c, n, 50),
    lambda b, c, n: ops.set_line_discounts(c, n, [b.pct(10)]),
]


@pytest.mark.parametrize("op", LINE_OPS)
@pytest.mark.parametrize("line_no", [0, -1, 3])
def test_line_number_is_validated(b, op, line_no):
    # v1: out of range -> 500, 0 or negative silently edited a line from the end [quirk]
    cart = b.cart_with((b.item("A", 100), 1), (b.item("B", 100), 1))
    with pytest.raises(LineItemNotFoundError):
        op(b, cart, line_no)


@pytest.mark.parametrize("op", LINE_OPS[1:])
def test_cancelled_lines_cannot_be_edited(b, op):
    cart = ops.cancel_line_item(b.cart_with((b.item("A", 100), 1)), 1)
    with pytest.raises(InvalidCartOperationError):
        op(b, cart, 1)


def test_cancelling_a_line_twice_is_harmless(b):
    cart = ops.cancel_line_item(b.cart_with((b.item("A", 100), 1)), 1)
    assert ops.cancel_line_item(cart, 1).total_amount == 0


def test_update_quantity(b):
    cart = ops.update_line_quantity(b.cart_with((b.item("A", 125), 1)), 1, 4)
    assert (cart.line_items[0].amount, cart.total_quantity) == (500, 4)
    with pytest.raises(CartValidationError):
        ops.update_line_quantity(cart, 1, 0)


def test_update_unit_price_keeps_the_first_original(b):
    cart = b.cart_with((b.item("A", 100), 2))
    assert cart.line_items[0].unit_price_original is None
    cart = ops.update_line_unit_price(cart, 1, 80)
    cart = ops.update_line_unit_price(cart, 1, "70.5")
    line = cart.line_items[0]
    assert (line.unit_price, line.unit_price_original, line.is_unit_price_changed) == (
        D("70.5"),
        100,
        True,
    )
    assert line.amount == 141
    with pytest.raises(CartValidationError):
        ops.update_line_unit_price(cart, 1, -1)


def test_line_discounts_replace_and_validate(b):
    cart = b.cart_with((b.item("A", 1000), 1))
    cart = ops.set_line_discounts(cart, 1, [b.pct(10), b.amt(50)])
    cart = ops.set_line_discounts(cart, 1, [b.amt(30, "coupon")])
    (d,) = cart.line_items[0].discounts
    assert (d.discount_amount, d.discount_detail, d.seq_no) == (30, "coupon", 1)
    assert ops.set_line_discounts(cart, 1, []).line_items[0].amount == 1000


def test_line_amount_discount_is_validated_against_the_gross_not_the_stale_amount(b):
    # v1 compared with the amount still reduced by the discounts being replaced [quirk]
    cart = ops.set_line_discounts(b.cart_with((b.item("A", 1000), 1)), 1, [b.amt(900)])
    assert ops.set_line_discounts(cart, 1, [b.amt(1000)]).line_items[0].amount == 0
    with pytest.raises(AmountLessThanDiscountError) as err:
        ops.set_line_discounts(cart, 1, [b.amt(1001)])
    assert (err.value.error_code, err.value.status_code) == ("402002", 400)


def test_restricted_line_refuses_discounts(b):
    cart = b.cart_with((b.item("A", 1000, restricted=True), 1))
    with pytest.raises(DiscountRestrictedError) as err:
        ops.set_line_discounts(cart, 1, [b.pct(10)])
    assert (err.value.error_code, err.value.status_code) == ("402005", 400)
    assert ops.set_line_discounts(cart, 1, []).line_items[0].discounts == ()


def test_lowering_quantity_under_an_amount_discount_is_refused(b):
    cart = ops.update_line_quantity(b.cart_with((b.item("A", 1000), 1)), 1, 3)
    cart = ops.set_line_discounts(cart, 1, [b.amt(2500)])
    with pytest.raises(AmountLessThanDiscountError):
        ops.update_line_quantity(cart, 1, 2)
    with pytest.raises(AmountLessThanDiscountError):
        ops.update_line_unit_price(cart, 1, 800)


def test_operations_never_mutate_their_input(b):
    cart = b.cart_with((b.item("A", 1000), 1))
    snapshot = cart.model_dump()
    ops.set_line_discounts(cart, 1, [b.pct(10)])
    ops.update_line_quantity(cart, 1, 5)
    ops.cancel_line_item(cart, 1)
    paying = ops.subtotal(cart)
    ops.add_payments(paying, [b.pay("01", 5000)])
    ops.set_subtotal_discounts(paying, [b.amt(100)])
    assert cart.model_dump() == snapshot


def test_changes_that_would_leave_the_customer_overpaid_are_refused(b):
    cart = b.cart_with((b.item("A", 1000), 1), (b.item("B", 500), 1))  # 1650
    cart = ops.add_payments(cart, [b.pay("11", 1600)])
    with pytest.raises(BalanceMinusError) as err:
        ops.cancel_line_item(cart, 1)
    assert err.value.error_code == "403003"
    with pytest.raises(BalanceMinusError):
        ops.set_line_discounts(cart, 1, [b.amt(100)])


def test_bill_needs_a_zero_balance(b):
    cart = ops.subtotal(b.cart_with((b.item("A", 1000), 1)))
    with pytest.raises(BalanceGreaterThanZeroError) as err:
        ops.bill(ops.add_payments(cart, [b.pay("01", 1099)]))
    assert (err.value.error_code, err.value.status_code) == ("403002", 406)
    assert ops.bill(ops.add_payments(cart, [b.pay("01", 1100)])).cart_status is CartStatus.COMPLETED


def test_bill_of_an_all_free_cart(b):
    cart = ops.subtotal(b.cart_with((b.item("A", 0), 1)))
    assert ops.bill(cart).cart_status is CartStatus.COMPLETED


def test_cancel_keeps_the_content_and_marks_the_sale_cancelled(b):
    cart = ops.subtotal(b.cart_with((b.item("A", 1000), 1)))
    cancelled = ops.cancel(cart)
    assert (cancelled.cart_status, cancelled.is_cancelled) == (CartStatus.CANCELLED, True)
    assert cancelled.total_amount_with_tax == 1100
    empty = ops.cancel(b.new_cart())
    assert empty.cart_status is CartStatus.CANCELLED and empty.line_items == ()


def test_total_discount_counts_line_and_subtotal_discounts_of_active_lines(b):
    cart = b.cart_with((b.item("A", 1000), 1), (b.item("B", 1000), 1))
    cart = ops.set_line_discounts(cart, 1, [b.amt(100)])
    cart = ops.set_line_discounts(cart, 2, [b.amt(200)])
    cart = ops.cancel_line_item(cart, 2)
    cart = ops.set_subtotal_discounts(ops.subtotal(cart), [b.amt(50)])
    assert cart.total_discount_amount == 150
    assert (cart.subtotal_amount, cart.total_amount) == (900, 850)


def test_floor_rounding_for_discounts_is_configurable(b):
    ctx = PricingContext(discount_round_method=RoundMethod.FLOOR)
    cart = ops.set_line_discounts(b.cart_with((b.item("A", 125), 2), ctx=ctx), 1, [b.pct(10)], ctx)
    assert cart.line_items[0].discounts[0].discount_amount == 24


def test_currency_digits_are_a_parameter(b):
    ctx = PricingContext(currency_digits=2)
    cart = b.cart_with((b.item("A", "12.34"), 3), ctx=ctx)
    cart = ops.set_line_discounts(cart, 1, [b.pct(10)], ctx)
    assert cart.line_items[0].discounts[0].discount_amount == D("3.69")  # 1.234 -> 1.23 x 3
    cart = ops.set_subtotal_discounts(ops.subtotal(cart, ctx), [b.amt("0.01")], ctx)
    assert cart.total_amount == D("33.32")


def test_the_cart_round_trips_through_json(b):
    cart = b.cart_with((b.item("A", 1000, category="001"), 2), (b.item("B", 298, "12"), 1))
    cart = ops.set_line_discounts(cart, 1, [b.pct(10, "staff")])
    cart = ops.set_subtotal_discounts(ops.subtotal(cart), [b.amt(100)])
    cart = ops.add_payments(cart, [b.pay("11", 500)])
    assert Cart.model_validate_json(cart.model_dump_json()) == cart


def test_typical_sequence_of_the_spec(b):
    # spec §3.2 typical sequence, end to end
    cart = ops.add_items(
        b.new_cart(),
        [
            ops.ItemEntry(b.item("4901", 1000), 2),
            ops.ItemEntry(b.item("4902", 300, "12"), 1, D(280)),
        ],
    )
    cart = ops.set_line_discounts(cart, 1, [b.pct(10, "staff")])
    cart = ops.subtotal(cart)
    cart = ops.set_subtotal_discounts(cart, [b.amt(100)])
    # lines 1800 + 280 = 2080; shares 86.54 / 13.46 -> 87 / 13; taxes 1713 -> 171, 267 -> 19
    assert [line.allocated_discount_amount for line in cart.line_items] == [87, 13]
    assert [t.tax_amount for t in cart.taxes] == [171, 19]
    assert cart.total_amount_with_tax == 1980 + 171
    cart = ops.add_payments(cart, [b.pay("11", 1000), b.pay("01", 2000)])
    assert (cart.balance_amount, cart.change_amount) == (0, 849)
    assert ops.bill(cart).cart_status is CartStatus.COMPLETED
