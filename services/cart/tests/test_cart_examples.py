"""The worked examples of cart spec §5.7, exactly (default tax master, Round for discounts)."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from kugelpos.cart import operations as ops
from kugelpos.cart.domain.models import CartStatus, TaxType
from kugelpos.cart.errors import BalanceZeroError, DepositOverBalanceError


def taxes_of(cart):
    return [(t.tax_no, t.tax_code, t.tax_type, t.target_amount, t.tax_amount) for t in cart.taxes]


def test_example_1_mixed_taxes_cash_with_change(b):
    cart = b.cart_with(
        (b.item("A", 1000, "01"), 2), (b.item("B", 298, "12"), 1), (b.item("C", 150, "00"), 1)
    )
    assert [line.amount for line in cart.line_items] == [2000, 298, 150]
    assert taxes_of(cart) == [
        (1, "01", TaxType.EXTERNAL, 2000, 200),
        (2, "12", TaxType.INTERNAL, 298, 22),  # 298/1.08*0.08 = 22.07 -> Floor
        (3, "00", TaxType.EXEMPT, 150, 0),
    ]
    assert (cart.total_amount, cart.total_amount_with_tax) == (2448, 2648)
    assert (cart.total_quantity, cart.balance_amount) == (4, 2648)

    cart = ops.add_payments(ops.subtotal(cart), [b.pay("01", 3000)])
    (payment,) = cart.payments
    assert (payment.deposit_amount, payment.payment_amount, payment.change_amount) == (
        3000,
        2648,
        352,
    )
    assert (cart.deposit_amount, cart.change_amount, cart.balance_amount) == (3000, 352, 0)

    cart = ops.bill(cart)
    assert cart.cart_status is CartStatus.COMPLETED
    assert cart.stamp_duty_amount == 0 and not cart.is_stamp_duty_applied


@pytest.mark.parametrize(
    ("price", "qty", "discounts", "amounts", "line_amount"),
    [
        # per-unit rounding: 12.5 -> 13 per unit -> 26 (a line-level computation gives 25)
        (125, 2, [("p", 10)], [26], 224),
        # percent 33.3 -> 33 per unit -> 99; then amount 50; 999 - 149 = 850
        (333, 3, [("p", 10), ("a", 50)], [99, 50], 850),
        # percentages compound: 100, then 5 % of 900 = 45
        (1000, 1, [("p", 10), ("p", 5)], [100, 45], 855),
        # [amount 50, 10 %]: the percent is computed on the gross: 50 + 100
        (1000, 1, [("a", 50), ("p", 10)], [50, 100], 850),
    ],
)
def test_example_2_line_discounts(b, price, qty, discounts, amounts, line_amount):
    cart = b.cart_with((b.item("X", price), qty))
    requests = [b.pct(v) if k == "p" else b.amt(v) for k, v in discounts]
    cart = ops.set_line_discounts(cart, 1, requests)
    (line,) = cart.line_items
    assert [d.discount_amount for d in line.discounts] == amounts
    assert [d.seq_no for d in line.discounts] == list(range(1, len(amounts) + 1))
    assert line.amount == line_amount
    assert cart.total_discount_amount == sum(amounts)


def test_example_3_subtotal_discount_with_mixed_taxes(b):
    cart = b.cart_with((b.item("X", 1000, "01"), 1), (b.item("Y", 550, "02"), 2))
    assert [t.tax_amount for t in cart.taxes] == [100, 100]
    assert (cart.total_amount, cart.total_amount_with_tax) == (2100, 2200)

    cart = ops.set_subtotal_discounts(ops.subtotal(cart), [b.pct(10)])
    (discount,) = cart.subtotal_discounts
    assert discount.discount_amount == 210
    assert [line.allocated_discount_amount for line in cart.line_items] == [100, 110]
    assert [line.amount for line in cart.line_items] == [1000, 1100]  # amounts unchanged
    assert taxes_of(cart) == [
        (1, "01", TaxType.EXTERNAL, 900, 90),
        (2, "02", TaxType.INTERNAL, 990, 90),
    ]
    assert (cart.total_amount, cart.total_amount_with_tax) == (1890, 1980)
    assert (cart.total_discount_amount, cart.balance_amount) == (210, 1980)


def test_example_4_allocation_remainder_goes_to_the_first_line(b):
    cart = b.cart_with(*[(b.item(f"L{i}", 1000), 1) for i in range(3)])
    cart = ops.set_subtotal_discounts(ops.subtotal(cart), [b.amt(100)])
    assert [line.allocated_discount_amount for line in cart.line_items] == [34, 33, 33]


def test_example_4_over_allocation_is_corrected(b):
    # v1 rounded each 2.5 up and kept 3 + 3 = 6 for a discount of 5 [quirk]; now exactly 5.
    cart = b.cart_with((b.item("P", 300), 1), (b.item("Q", 300), 1))
    cart = ops.set_subtotal_discounts(ops.subtotal(cart), [b.amt(5)])
    assert [line.allocated_discount_amount for line in cart.line_items] == [3, 2]
    assert cart.total_amount == 595


def _example_3_paying(b):
    cart = b.cart_with((b.item("X", 1000, "01"), 1), (b.item("Y", 550, "02"), 2))
    return ops.set_subtotal_discounts(ops.subtotal(cart), [b.pct(10)])


def test_example_5_split_tender(b):
    cart = _example_3_paying(b)
    assert cart.balance_amount == 1980
    cart = ops.add_payments(cart, [b.pay("11", 1000)])
    assert cart.balance_amount == 980
    cart = ops.add_payments(cart, [b.pay("01", 1000)])
    cash = cart.payments[1]
    assert (cash.payment_amount, cash.change_amount) == (980, 20)
    assert (cart.balance_amount, cart.deposit_amount, cart.change_amount) == (0, 2000, 20)
    assert [p.payment_no for p in cart.payments] == [1, 2]
    with pytest.raises(BalanceZeroError) as err:
        ops.add_payments(cart, [b.pay("01", 100)])
    assert (err.value.error_code, err.value.status_code) == ("403001", 406)
    assert ops.bill(cart).cart_status is CartStatus.COMPLETED


def test_example_5_split_tender_in_one_request(b):
    cart = ops.add_payments(_example_3_paying(b), [b.pay("11", 1000), b.pay("01", 1000)])
    assert (cart.balance_amount, cart.deposit_amount, cart.change_amount) == (0, 2000, 20)


def test_example_5_cashless_over_tender_is_refused(b):
    with pytest.raises(DepositOverBalanceError) as err:
        ops.add_payments(_example_3_paying(b), [b.pay("11", 2000)])
    assert (err.value.error_code, err.value.status_code) == ("403004", 406)


def test_example_6_stamp_duty_with_cash(b):
    cart = ops.subtotal(b.cart_with((b.item("BIG", 50000, "01"), 1)))
    assert (cart.total_amount, cart.tax_amount, cart.total_amount_with_tax) == (50000, 5000, 55000)
    cart = ops.bill(ops.add_payments(cart, [b.pay("01", 60000)]))
    assert cart.payments[0].payment_amount == 55000
    assert cart.change_amount == 5000
    assert cart.is_stamp_duty_applied
    assert (cart.stamp_duty_target_amount, cart.stamp_duty_amount) == (55000, 200)


def test_example_6_no_stamp_duty_when_paid_cashless(b):
    cart = ops.subtotal(b.cart_with((b.item("BIG", 50000, "01"), 1)))
    cart = ops.bill(ops.add_payments(cart, [b.pay("11", 55000)]))
    assert not cart.is_stamp_duty_applied
    assert cart.stamp_duty_amount == D(0)
