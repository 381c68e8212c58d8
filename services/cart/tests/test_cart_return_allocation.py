"""What a partial return refunds (pricing/returns.py, issue 25): a worked example, edge cases,
and the property that however a sale is split into returns, the returns add up to it exactly,
in total and per tax code. (The figures of docs/cart.md "Partial returns" are checked through
HTTP in test_cart_api_returns.py.)"""

from __future__ import annotations

from decimal import Decimal as D

from hypothesis import given, settings
from hypothesis import strategies as st

from kugelpos.cart.domain.masters import TaxMaster, tax_master_by_code
from kugelpos.cart.domain.models import Cart, Discount, DiscountType, LineItem, TaxType
from kugelpos.cart.pricing.engine import PricingContext, recalculate
from kugelpos.cart.pricing.money import RoundMethod
from kugelpos.cart.pricing.returns import (
    ReturnShare,
    SoldLine,
    SoldTax,
    allocate_return,
    remaining,
    share,
    sold_lines,
    sold_taxes,
)
from kugelpos.cart.promotions.category import ActivePromotion, CategoryPromotion
from kugelpos.cart.transactions import tranlog

from .test_cart_properties import lines_st, priced, subtotal_discounts_st


def worked_sale() -> Cart:
    """A 1000 x 3 (01), B 500 x 2 at 10 % (01), C 330 (02), a subtotal discount of 500."""
    lines = (
        LineItem(line_no=1, item_code="A", tax_code="01", unit_price=D(1000), quantity=3),
        LineItem(
            line_no=2,
            item_code="B",
            tax_code="01",
            unit_price=D(500),
            quantity=2,
            discounts=(
                Discount(seq_no=1, discount_type=DiscountType.PERCENTAGE, discount_value=D(10)),
            ),
        ),
        LineItem(line_no=3, item_code="C", tax_code="02", unit_price=D(330), quantity=1),
    )
    discount = Discount(seq_no=1, discount_type=DiscountType.AMOUNT, discount_value=D(500))
    return recalculate(
        Cart(cart_id="w", line_items=lines, subtotal_discounts=(discount,)), PricingContext()
    )


def as_stored(cart: Cart) -> tuple[list[SoldLine], list[SoldTax]]:
    """Through the tranlog's own dicts, as the cart stores a sale (floats included)."""
    return (
        sold_lines([tranlog.line_info(line) for line in cart.line_items]),
        sold_taxes([tranlog.tax_info(t) for t in cart.taxes]),
    )


def test_worked_example_sale_figures() -> None:
    cart = worked_sale()
    amounts = [(line.amount, line.allocated_discount_amount) for line in cart.line_items]
    assert amounts == [(D(3000), D(355)), (D(900), D(106)), (D(330), D(39))]
    taxes = {t.tax_code: (t.tax_amount, t.target_amount) for t in cart.taxes}
    assert taxes == {"01": (D(343), D(3439)), "02": (D(26), D(291))}
    assert (cart.total_amount, cart.tax_amount, cart.total_amount_with_tax) == (
        D(3730),
        D(343),
        D(4073),
    )


def test_worked_example_returned_in_three_steps() -> None:
    lines, taxes = as_stored(worked_sale())
    before: dict[int, int] = {}
    steps = [{1: 1}, {1: 1, 2: 1}, {1: 1, 2: 1, 3: 1}]
    expected = [
        # per line (amount, allocated, net, refund), tax per code, total with tax
        ({1: (999, 118, 881, 968)}, {"01": 87}, 968),
        ({1: (1000, 118, 882, 970), 2: (450, 53, 397, 437)}, {"01": 128}, 1407),
        (
            {1: (1001, 119, 882, 970), 2: (450, 53, 397, 437), 3: (330, 39, 291, 291)},
            {"01": 128, "02": 26},
            1698,
        ),
    ]
    for step, (want_lines, want_taxes, want_total) in zip(steps, expected, strict=True):
        got = allocate_return(lines, taxes, before, step, 0)
        assert {
            line.line_no: (line.amount, sum(line.allocations), line.net, line.refund)
            for line in got.lines
        } == {n: tuple(D(v) for v in values) for n, values in want_lines.items()}
        assert {t.tax_code: t.tax_amount for t in got.taxes} == {
            code: D(v) for code, v in want_taxes.items()
        }
        assert got.total_amount_with_tax == D(want_total)
        assert sum(line.refund for line in got.lines) == got.total_amount_with_tax
        for n, q in step.items():
            before[n] = before.get(n, 0) + q
    assert remaining(lines, before) == {1: 0, 2: 0, 3: 0}
    assert 968 + 1407 + 1698 == 4073  # the sale's total with tax, to the yen


def test_whole_return_at_once_is_the_sale() -> None:
    cart = worked_sale()
    lines, taxes = as_stored(cart)
    got = allocate_return(lines, taxes, {}, {1: 3, 2: 2, 3: 1}, 0)
    assert got.total_amount == cart.total_amount
    assert got.total_amount_with_tax == cart.total_amount_with_tax
    assert {t.tax_code: t.tax_amount for t in got.taxes} == {
        t.tax_code: t.tax_amount for t in cart.taxes
    }
    assert got.total_discount_amount == cart.total_discount_amount


def test_share_is_floored_cumulatively_and_exact_at_the_end() -> None:
    assert [share(D(1000), k, 3, 0) for k in range(4)] == [D(0), D(333), D(666), D(1000)]
    assert [share(D("10.05"), k, 2, 2) for k in range(3)] == [D(0), D("5.02"), D("10.05")]


def test_no_piece_is_negative_where_separate_floors_would_give_one() -> None:
    # amount 4, allocated 3, six units: flooring amount and allocation separately would
    # make the fourth unit refund -1; the net is shared on its own instead.
    line = SoldLine(line_no=1, quantity=6, tax_code="00", amount=D(4), allocations=(D(3),))
    taxes = [SoldTax("00", TaxType.EXEMPT, D(0), D(1))]
    before: dict[int, int] = {}
    for _ in range(6):
        got = allocate_return([line], taxes, before, {1: 1}, 0)
        assert got.lines[0].net >= 0 and got.lines[0].amount >= 0
        before[1] = before.get(1, 0) + 1


def test_cancelled_lines_have_nothing_to_return() -> None:
    lines = [
        SoldLine(line_no=1, quantity=2, tax_code="01", amount=D(200)),
        SoldLine(line_no=2, quantity=1, tax_code="01", amount=D(100), is_cancelled=True),
    ]
    assert remaining(lines, {1: 1}) == {1: 1}


# ---- the property: any split, exact to the unit -------------------------------------------

TAXES = tax_master_by_code(
    [
        TaxMaster(tax_code="00", tax_type=TaxType.EXEMPT, tax_name="exempt", rate=D(0)),
        TaxMaster(
            tax_code="01",
            tax_type=TaxType.EXTERNAL,
            tax_name="ext 10",
            rate=D(10),
            round_method=RoundMethod.FLOOR,
        ),
        TaxMaster(
            tax_code="02",
            tax_type=TaxType.INTERNAL,
            tax_name="int 10",
            rate=D(10),
            round_method=RoundMethod.ROUND,
        ),
        TaxMaster(
            tax_code="11",
            tax_type=TaxType.EXTERNAL,
            tax_name="ext 8",
            rate=D(8),
            round_method=RoundMethod.CEIL,
        ),
        TaxMaster(
            tax_code="12",
            tax_type=TaxType.INTERNAL,
            tax_name="int 8",
            rate=D(8),
            round_method=RoundMethod.FLOOR,
        ),
    ]
)


@st.composite
def sales(draw) -> Cart:
    lines = draw(lines_st(max_size=6))
    lines = [
        line.model_copy(update={"category_code": draw(st.sampled_from(["C1", "C2", None]))})
        for line in lines
    ]
    discounts = draw(subtotal_discounts_st())
    method = draw(st.sampled_from(list(RoundMethod)))
    promotions = ()
    if draw(st.booleans()):
        rate = draw(st.integers(1, 50))
        promotions = (
            CategoryPromotion(
                (
                    ActivePromotion(
                        promotion_code="P1",
                        promotion_type="category_discount",
                        name="promo",
                        detail={"targetCategoryCodes": ["C1"], "discountRate": rate},
                    ),
                ),
                method=method,
            ),
        )
    base = priced(lines, discounts, method)  # assumes away carts the engine refuses
    return recalculate(
        base,
        PricingContext(discount_round_method=method, tax_master=TAXES, promotions=promotions),
    )


def _add(total: dict, share_: ReturnShare) -> None:
    total["amount"] += share_.total_amount
    total["with_tax"] += share_.total_amount_with_tax
    total["discount"] += share_.total_discount_amount
    for t in share_.taxes:
        total["taxes"][t.tax_code] = total["taxes"].get(t.tax_code, D(0)) + t.tax_amount
        total["targets"][t.tax_code] = total["targets"].get(t.tax_code, D(0)) + t.target_amount
    for line in share_.lines:
        total["lines"][line.line_no] = total["lines"].get(line.line_no, D(0)) + line.amount


@settings(max_examples=300, deadline=None)
@given(sales(), st.randoms(use_true_random=False))
def test_returns_in_any_split_add_up_to_the_sale_exactly(cart: Cart, rnd) -> None:
    lines, taxes = as_stored(cart)
    before: dict[int, int] = {}
    total = {"amount": D(0), "with_tax": D(0), "discount": D(0), "taxes": {}, "targets": {}}
    total["lines"] = {}
    while left := {n: q for n, q in remaining(lines, before).items() if q > 0}:
        chosen = rnd.sample(sorted(left), rnd.randint(1, len(left)))
        step = {n: rnd.randint(1, left[n]) for n in chosen}
        got = allocate_return(lines, taxes, before, step, 0)
        for line in got.lines:
            assert line.amount >= 0 and line.net >= 0 and line.refund >= 0
            # a unit never refunds more than its line's proportional share, rounded up
            sold = next(s for s in lines if s.line_no == line.line_no)
            assert line.net <= sold.net * line.quantity / sold.quantity + 1
        assert all(t.tax_amount >= 0 for t in got.taxes)
        assert sum(line.refund for line in got.lines) == got.total_amount_with_tax
        _add(total, got)
        for n, q in step.items():
            before[n] = before.get(n, 0) + q
    assert total["amount"] == cart.total_amount
    assert total["with_tax"] == cart.total_amount_with_tax
    assert total["discount"] == sum(
        (
            sum((d.discount_amount for d in line.discounts), D(0)) + line.allocated_discount_amount
            for line in cart.line_items
            if not line.is_cancelled
        ),
        D(0),
    )
    live = {t.tax_code: t for t in cart.taxes if t.target_quantity > 0}
    assert {c: v for c, v in total["taxes"].items()} == {c: t.tax_amount for c, t in live.items()}
    assert total["targets"] == {c: t.target_amount for c, t in live.items()}
    assert total["lines"] == {
        line.line_no: line.amount for line in cart.line_items if not line.is_cancelled
    }
