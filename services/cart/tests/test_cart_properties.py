"""Property tests (hypothesis) for the calculation invariants."""

from __future__ import annotations

import contextlib
from decimal import Decimal as D

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from kugelpos.cart import operations as ops
from kugelpos.cart.domain.masters import DEFAULT_TAX_MASTER, tax_master_by_code
from kugelpos.cart.domain.models import Cart, CartStatus, Discount, DiscountType, LineItem, TaxType
from kugelpos.cart.errors import AmountLessThanDiscountError, CartError
from kugelpos.cart.pricing.engine import PricingContext, recalculate
from kugelpos.cart.pricing.lines import percentage_discount_amount
from kugelpos.cart.pricing.money import RoundMethod, quantum, round_money
from kugelpos.cart.pricing.subtotal_discounts import discountable_amount
from kugelpos.cart.pricing.tax import compute_taxes
from kugelpos.common.errors import AppError

MASTER = tax_master_by_code(DEFAULT_TAX_MASTER)
TAX_CODES = sorted(MASTER)
METHODS = list(RoundMethod)

prices = st.one_of(
    st.integers(0, 200_000).map(D),
    st.integers(0, 20_000).map(lambda n: D(n) / 2),  # some fractional (x.5) prices
)
percents = st.integers(0, 100).map(D)


@st.composite
def lines_st(draw, min_size=1, max_size=8):
    n = draw(st.integers(min_size, max_size))
    lines = []
    for i in range(1, n + 1):
        price = draw(prices)
        qty = draw(st.integers(1, 12))
        discounts = [
            Discount(seq_no=j, discount_type=DiscountType.PERCENTAGE, discount_value=draw(percents))
            for j in range(1, draw(st.integers(0, 2)) + 1)
        ]
        if draw(st.booleans()):
            gross = int(price * qty)
            value = D(draw(st.integers(0, max(gross // 2, 0))))
            discounts.append(
                Discount(
                    seq_no=len(discounts) + 1,
                    discount_type=DiscountType.AMOUNT,
                    discount_value=value,
                )
            )
        lines.append(
            LineItem(
                line_no=i,
                item_code=f"I{i}",
                tax_code=draw(st.sampled_from(TAX_CODES)),
                unit_price=price,
                quantity=qty,
                discounts=tuple(discounts),
                is_cancelled=draw(st.booleans()) and draw(st.booleans()),  # ~25 %
                is_discount_restricted=draw(st.integers(0, 4)) == 0,  # ~20 %
            )
        )
    return lines


@st.composite
def subtotal_discounts_st(draw):
    return tuple(
        Discount(
            seq_no=i,
            discount_type=kind,
            discount_value=draw(percents)
            if kind is DiscountType.PERCENTAGE
            else D(draw(st.integers(0, 50_000))),
        )
        for i, kind in enumerate(
            draw(st.lists(st.sampled_from(list(DiscountType)), max_size=3)), start=1
        )
    )


def priced(lines, discounts=(), method=RoundMethod.ROUND, payments=()):
    cart = Cart(
        cart_id="p", line_items=tuple(lines), subtotal_discounts=tuple(discounts), payments=payments
    )
    try:
        return recalculate(cart, PricingContext(discount_round_method=method))
    except AmountLessThanDiscountError:
        assume(False)


def renumber(lines):
    return [line.model_copy(update={"line_no": i}) for i, line in enumerate(lines, start=1)]


def tax_by_code(cart):
    return {t.tax_code: (t.tax_amount, t.target_amount, t.target_quantity) for t in cart.taxes}


@settings(max_examples=200)
@given(lines_st(), st.randoms(use_true_random=False), st.sampled_from(METHODS))
def test_group_tax_does_not_depend_on_line_order(lines, rnd, method):
    shuffled = list(lines)
    rnd.shuffle(shuffled)
    assert tax_by_code(priced(lines, method=method)) == tax_by_code(
        priced(renumber(shuffled), method=method)
    )


@settings(max_examples=200)
@given(lines_st(), subtotal_discounts_st(), st.randoms(use_true_random=False))
def test_tax_of_given_line_net_amounts_does_not_depend_on_order(lines, discounts, rnd):
    # With subtotal discounts the allocation's tie-break uses line order, so compare the tax
    # step itself on the allocated lines.
    cart = priced(lines, discounts)
    shuffled = list(cart.line_items)
    rnd.shuffle(shuffled)
    assert {t.tax_code: t for t in compute_taxes(shuffled, MASTER)}.keys() == tax_by_code(
        cart
    ).keys()
    assert {
        t.tax_code: (t.tax_amount, t.target_amount, t.target_quantity)
        for t in compute_taxes(shuffled, MASTER)
    } == tax_by_code(cart)


@settings(max_examples=300)
@given(lines_st(), subtotal_discounts_st(), st.sampled_from(METHODS))
def test_allocations_sum_exactly_to_each_discount(lines, discounts, method):
    cart = priced(lines, discounts, method)
    base = discountable_amount(cart.line_items)
    assert sum(d.discount_amount for d in cart.subtotal_discounts) <= base
    for discount in cart.subtotal_discounts:
        assert discount.discount_amount >= 0
        shares = [
            a.discount_amount
            for line in cart.line_items
            for a in line.discounts_allocated
            if a.seq_no == discount.seq_no
        ]
        assert sum(shares) == discount.discount_amount
        assert all(s >= 0 for s in shares)
    for line in cart.line_items:
        if line.is_cancelled or line.is_discount_restricted:
            assert line.discounts_allocated == ()
        assert 0 <= line.allocated_discount_amount <= line.amount


@settings(max_examples=200)
@given(lines_st(), subtotal_discounts_st())
def test_discounts_are_kept_in_full_when_they_fit(lines, discounts):
    cart = priced(lines)
    base = discountable_amount(cart.line_items)
    requested = [
        round_money(base * d.discount_value / 100, RoundMethod.ROUND)
        if d.discount_type is DiscountType.PERCENTAGE
        else d.discount_value
        for d in discounts
    ]
    assume(sum(requested) <= base)
    after = priced(lines, discounts)
    assert [d.discount_amount for d in after.subtotal_discounts] == requested


@settings(max_examples=300)
@given(lines_st(), subtotal_discounts_st(), st.sampled_from(METHODS))
def test_totals_identities(lines, discounts, method):
    cart = priced(lines, discounts, method)
    active = [line for line in cart.line_items if not line.is_cancelled]
    external = sum((t.tax_amount for t in cart.taxes if t.tax_type is TaxType.EXTERNAL), D(0))
    assert cart.tax_amount == external
    assert cart.total_amount_with_tax == cart.total_amount + cart.tax_amount
    assert cart.subtotal_amount == sum((line.amount for line in active), D(0))
    assert cart.total_amount == cart.subtotal_amount - sum(
        (d.discount_amount for d in cart.subtotal_discounts), D(0)
    )
    assert cart.total_quantity == sum(line.quantity for line in active)
    assert cart.balance_amount == cart.total_amount_with_tax  # no payments
    assert sum((t.target_amount for t in cart.taxes), D(0)) == cart.total_amount
    assert all(t.tax_amount >= 0 for t in cart.taxes)
    assert cart.total_amount >= 0
    for line in active:
        assert line.amount >= 0 and line.net_amount >= 0
        assert line.amount == line.gross_amount - line.line_discount_amount
        assert all(d.discount_amount >= 0 for d in line.discounts)


@settings(max_examples=200)
@given(
    st.lists(
        st.tuples(st.integers(0, 50_000), st.integers(1, 5), st.sampled_from(TAX_CODES)),
        min_size=1,
        max_size=5,
    ),
    st.lists(st.tuples(st.sampled_from(["01", "11", "12"]), st.integers(1, 300_000)), max_size=6),
)
def test_payment_invariants(b, entries, tenders):
    cart = ops.subtotal(
        ops.add_items(
            b.new_cart(),
            [ops.ItemEntry(b.item(f"I{i}", p, t), q) for i, (p, q, t) in enumerate(entries)],
        )
    )
    for code, amount in tenders:
        with contextlib.suppress(CartError):
            cart = ops.add_payments(cart, [b.pay(code, amount)])
        paid = sum((p.payment_amount for p in cart.payments), D(0))
        assert cart.balance_amount == cart.total_amount_with_tax - paid
        assert cart.balance_amount >= 0
        assert cart.change_amount >= 0
        assert cart.change_amount == sum((p.change_amount for p in cart.payments), D(0))
        assert cart.deposit_amount == sum((p.deposit_amount for p in cart.payments), D(0))
        for p in cart.payments:
            assert p.payment_amount > 0 and p.deposit_amount >= p.payment_amount
            assert p.change_amount == (
                p.deposit_amount - p.payment_amount if p.payment_code == "01" else 0
            )
    if cart.balance_amount == 0:
        assert ops.bill(cart).cart_status is CartStatus.COMPLETED


@given(
    st.decimals(min_value=-(10**9), max_value=10**9, places=4, allow_nan=False), st.integers(0, 3)
)
def test_rounding_modes(value, digits):
    q = quantum(digits)
    floor, rnd, ceil = (
        round_money(value, m, digits)
        for m in (RoundMethod.FLOOR, RoundMethod.ROUND, RoundMethod.CEIL)
    )
    assert floor <= value <= ceil
    assert floor <= rnd <= ceil
    assert ceil - floor in (0, q)
    assert abs(rnd - value) <= q / 2
    if value == floor:
        assert floor == rnd == ceil


@given(st.integers(0, 10**6).map(D), st.integers(1, 50), percents)
def test_percentage_discount_per_unit_bounds(per_unit, qty, percent):
    results = {m: percentage_discount_amount(per_unit, qty, percent, m) for m in METHODS}
    assert results[RoundMethod.FLOOR] <= results[RoundMethod.ROUND] <= results[RoundMethod.CEIL]
    for value in results.values():
        assert 0 <= value <= per_unit * qty
        assert value % qty == 0  # rounded per unit, then multiplied


OPERATIONS = st.sampled_from(
    [
        "add",
        "cancel_line",
        "qty",
        "price",
        "line_disc",
        "subtotal",
        "cart_disc",
        "pay",
        "resume",
        "bill",
        "cancel",
    ]
)


def _apply(b, cart, name, n, value):
    """One step of a random till session; `n` picks a line or payment code, `value` a number."""
    discount = [b.pct(value % 120)] if value % 2 else [b.amt(value)]
    match name:
        case "add":
            entry = ops.ItemEntry(b.item(f"I{n}", value, TAX_CODES[n % 5]), n % 3 + 1)
            return ops.add_items(cart, [entry])
        case "cancel_line":
            return ops.cancel_line_item(cart, n)
        case "qty":
            return ops.update_line_quantity(cart, n, value % 7)
        case "price":
            return ops.update_line_unit_price(cart, n, value)
        case "line_disc":
            return ops.set_line_discounts(cart, n, discount)
        case "subtotal":
            return ops.subtotal(cart)
        case "cart_disc":
            return ops.set_subtotal_discounts(cart, discount)
        case "pay":
            return ops.add_payments(cart, [b.pay(["01", "11", "12"][n % 3], value)])
        case "resume":
            return ops.resume_item_entry(cart)
        case "bill":
            return ops.bill(cart)
        case _:
            return ops.cancel(cart)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(OPERATIONS, st.integers(0, 6), st.integers(0, 3000)), max_size=25))
def test_random_operation_sequences_keep_the_cart_consistent(b, steps):
    cart = b.new_cart()
    for name, n, value in steps:
        try:
            cart = _apply(b, cart, name, n, value)
        except AppError as exc:
            # every refusal is a 4xx with a code; the cart stays as it was (we keep `cart`)
            assert 400 <= exc.status_code < 500, exc
            continue
        paid = sum((p.payment_amount for p in cart.payments), D(0))
        assert cart.total_amount_with_tax == cart.total_amount + cart.tax_amount
        assert cart.balance_amount == cart.total_amount_with_tax - paid
        assert cart.balance_amount >= 0 and cart.change_amount >= 0 and cart.total_amount >= 0
        assert all(line.amount >= 0 for line in cart.line_items if not line.is_cancelled)
        for d in cart.subtotal_discounts:
            allocated = [
                a.discount_amount
                for line in cart.line_items
                for a in line.discounts_allocated
                if a.seq_no == d.seq_no
            ]
            assert sum(allocated) == d.discount_amount
        if cart.cart_status is CartStatus.COMPLETED:
            assert cart.balance_amount == 0


def test_payment_masters_fixture_matches_the_sample_data(b):
    assert b.PAYMENT_MASTERS["01"].can_change and not b.PAYMENT_MASTERS["11"].can_deposit_over
