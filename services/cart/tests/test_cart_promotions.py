"""Category promotion (spec §7) as a pure rule, and promotions inside the recalc."""

from __future__ import annotations

from decimal import Decimal as D

from kugelpos.cart import operations as ops
from kugelpos.cart.domain.models import DiscountType
from kugelpos.cart.pricing.engine import PricingContext, PromotionPhase, recalculate
from kugelpos.cart.promotions.category import (
    CATEGORY_DISCOUNT,
    ActivePromotion,
    CategoryPromotion,
    apply_category_promotions,
    best_rate_by_category,
)


def promo(code, categories, rate, kind=CATEGORY_DISCOUNT, name=None):
    return ActivePromotion(
        promotion_code=code,
        promotion_type=kind,
        name=name or f"promo {code}",
        detail={"targetCategoryCodes": categories, "discountRate": rate},
    )


def test_best_rate_per_category_first_wins_ties():
    rates = best_rate_by_category(
        [promo("P1", ["001", "002"], 10), promo("P2", ["002"], 15), promo("P3", ["001"], 10)]
    )
    assert {c: (r.promotion_code, r.rate) for c, r in rates.items()} == {
        "001": ("P1", 10),
        "002": ("P2", 15),
    }


def test_other_types_and_bad_details_are_skipped():
    bad = [
        promo("X", ["001"], 10, kind="bundle"),
        ActivePromotion("Y", CATEGORY_DISCOUNT, "y", detail=None),
        ActivePromotion("Z", CATEGORY_DISCOUNT, "z", detail={"targetCategoryCodes": "001"}),
        promo("R0", ["001"], 0),
        promo("R101", ["001"], 101),
        promo("RS", ["001"], "abc"),
    ]
    assert best_rate_by_category(bad) == {}


def test_applies_to_eligible_lines_only(b):
    cart = b.cart_with(
        (b.item("A", 100, category="001"), 2),
        (b.item("B", 100, category="001", restricted=True), 1),
        (b.item("C", 100, category="009"), 1),
        (b.item("D", 100, category="001"), 1),
    )
    cart = ops.cancel_line_item(cart, 4)
    result = apply_category_promotions(cart, [promo("P1", ["001"], 10, name="Tea week")])
    a, restricted, other, cancelled = result.line_items
    (d,) = a.discounts
    assert (d.discount_type, d.discount_value, d.discount_detail) == (
        DiscountType.PERCENTAGE,
        10,
        "Tea week",
    )
    assert (d.promotion_code, d.promotion_type, d.seq_no) == ("P1", CATEGORY_DISCOUNT, 1)
    assert restricted.discounts == other.discounts == cancelled.discounts == ()


def test_not_applied_twice_and_pure(b):
    cart = b.cart_with((b.item("A", 100, category="001"), 2))
    promos = [promo("P1", ["001"], 10)]
    once = apply_category_promotions(cart, promos)
    assert apply_category_promotions(once, promos) is once
    assert cart.line_items[0].discounts == ()


def test_no_promotions_returns_the_same_cart(b):
    cart = b.cart_with((b.item("A", 100, category="001"), 1))
    assert apply_category_promotions(cart, []) is cart


def test_in_the_recalc_with_per_unit_rounding(b):
    ctx = PricingContext(promotions=(CategoryPromotion((promo("P1", ["001"], 10),)),))
    cart = b.cart_with((b.item("A", 100, category="001"), 2), ctx=ctx)
    line = cart.line_items[0]
    assert line.discounts[0].discount_amount == 20 and line.amount == 180  # spec §7 example
    # 125 x 2 at 10 %: 13 per unit
    cart = b.cart_with((b.item("B", 125, category="001"), 2), ctx=ctx)
    assert cart.line_items[0].discounts[0].discount_amount == 26


def test_manual_discounts_replace_it_and_the_recalc_adds_it_after_them(b):
    ctx = PricingContext(promotions=(CategoryPromotion((promo("P1", ["001"], 10),)),))
    cart = b.cart_with((b.item("A", 1000, category="001"), 1), ctx=ctx)
    cart = ops.set_line_discounts(cart, 1, [b.amt(100)], ctx)
    kinds = [(d.discount_type, d.promotion_type) for d in cart.line_items[0].discounts]
    assert kinds == [(DiscountType.AMOUNT, None), (DiscountType.PERCENTAGE, CATEGORY_DISCOUNT)]
    assert cart.line_items[0].amount == 800  # 1000 - 100 (percent on gross) - 100


def test_promotion_is_skipped_when_manual_discounts_leave_no_room(b):
    ctx = PricingContext(promotions=(CategoryPromotion((promo("P1", ["001"], 10),)),))
    cart = b.cart_with((b.item("A", 1000, category="001"), 1), ctx=ctx)
    cart = ops.set_line_discounts(cart, 1, [b.amt(950)], ctx)
    assert [d.promotion_type for d in cart.line_items[0].discounts] == [None]
    assert cart.line_items[0].amount == 50


class Boom:
    phase = PromotionPhase.LINE_ITEM

    def apply(self, cart):
        raise RuntimeError("master-data down")


class SubtotalPromo:
    phase = PromotionPhase.SUBTOTAL
    calls = 0

    def apply(self, cart):
        type(self).calls += 1
        first = cart.line_items[0]
        return cart.model_copy(
            update={
                "line_items": (first.model_copy(update={"unit_price": D(50)}), *cart.line_items[1:])
            }
        )


def test_failing_promotion_is_skipped(b):
    cart = b.cart_with((b.item("A", 100), 1))
    assert recalculate(cart, PricingContext(promotions=(Boom(),))).total_amount == 100


def test_subtotal_phase_promotions_run_after_pricing_and_are_priced_again(b):
    cart = b.cart_with((b.item("A", 100), 1))
    result = recalculate(cart, PricingContext(promotions=(SubtotalPromo(),)))
    assert SubtotalPromo.calls == 1
    assert (result.total_amount, result.tax_amount) == (50, 5)
