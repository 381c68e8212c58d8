"""The recalc pipeline (spec §5.6) over a cart, returning a new computed cart.

```
(a) promotions of phase `line_item` (a failing promotion is logged and skipped)
(b) line amounts and line discounts           lines.compute_line
(b') subtotal discounts and their allocation  subtotal_discounts.apply_subtotal_discounts
(c) taxes per tax-code group                  tax.compute_taxes
(d) totals, payments, balance, change         totals.compute_totals / compute_payment_totals
(e) if any promotion has phase `subtotal`: run them, then (b)-(d) again
```

(b') is the §18.9 fix: v1 computed subtotal discounts only in the cart-discount operation and
then kept stale amounts; here they follow every change of the lines.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol, runtime_checkable

from ..domain.masters import DEFAULT_TAX_MASTER, TaxMaster, tax_master_by_code
from ..domain.models import Cart
from .lines import DEFAULT_MAX_QUANTITY, compute_line
from .money import YEN_DIGITS, RoundMethod
from .subtotal_discounts import apply_subtotal_discounts
from .tax import compute_taxes
from .totals import compute_payment_totals, compute_totals

log = logging.getLogger(__name__)


class PromotionPhase(StrEnum):
    LINE_ITEM = "line_item"
    SUBTOTAL = "subtotal"


@runtime_checkable
class Promotion(Protocol):
    """A sales promotion as the engine runs it: pure, `apply` returns a new cart."""

    @property
    def phase(self) -> PromotionPhase: ...

    def apply(self, cart: Cart) -> Cart: ...


@dataclass(frozen=True)
class PricingContext:
    """Everything the calculation depends on besides the cart itself."""

    tax_master: Mapping[str, TaxMaster] = field(
        default_factory=lambda: tax_master_by_code(DEFAULT_TAX_MASTER)
    )
    discount_round_method: RoundMethod = RoundMethod.ROUND  # ROUND_METHOD_FOR_DISCOUNT
    currency_digits: int = YEN_DIGITS
    max_quantity: int = DEFAULT_MAX_QUANTITY
    promotions: Sequence[Promotion] = ()


def _run_promotions(cart: Cart, ctx: PricingContext, phase: PromotionPhase) -> Cart:
    for promotion in ctx.promotions:
        if promotion.phase != phase:
            continue
        try:
            cart = promotion.apply(cart)
        except Exception:
            log.warning("promotion %r failed and was skipped", promotion, exc_info=True)
    return cart


def price(cart: Cart, ctx: PricingContext) -> Cart:
    """Steps (b)-(d): lines, subtotal discounts, taxes, totals and balance."""
    method, digits = ctx.discount_round_method, ctx.currency_digits
    lines = tuple(compute_line(line, method, digits) for line in cart.line_items)
    lines, subtotal_discounts = apply_subtotal_discounts(
        lines, cart.subtotal_discounts, method, digits
    )
    taxes = compute_taxes(lines, ctx.tax_master)
    totals = compute_totals(lines, taxes, subtotal_discounts)
    paid = compute_payment_totals(totals.total_amount_with_tax, cart.payments)
    return cart.model_copy(
        update={
            "line_items": lines,
            "subtotal_discounts": subtotal_discounts,
            "taxes": taxes,
            "subtotal_amount": totals.subtotal_amount,
            "total_amount": totals.total_amount,
            "tax_amount": totals.tax_amount,
            "total_amount_with_tax": totals.total_amount_with_tax,
            "total_quantity": totals.total_quantity,
            "total_discount_amount": totals.total_discount_amount,
            "deposit_amount": paid.deposit_amount,
            "change_amount": paid.change_amount,
            "balance_amount": paid.balance_amount,
        }
    )


def recalculate(cart: Cart, ctx: PricingContext | None = None) -> Cart:
    """The whole pipeline (a)-(e). Pure: the input cart is not changed."""
    ctx = ctx or PricingContext()
    cart = _run_promotions(cart, ctx, PromotionPhase.LINE_ITEM)
    cart = price(cart, ctx)
    if any(p.phase == PromotionPhase.SUBTOTAL for p in ctx.promotions):
        cart = _run_promotions(cart, ctx, PromotionPhase.SUBTOTAL)
        cart = price(cart, ctx)
    return cart
