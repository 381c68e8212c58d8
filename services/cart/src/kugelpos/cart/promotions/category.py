"""Category promotion (spec §7), as a pure function over a cart and the active promotions.

1. Only promotions of type `category_discount` count; their `detail` must parse as
   `{targetCategoryCodes: [str, ...], discountRate: 0 < r <= 100}` (else the promotion is
   skipped). Store/date/active filtering is master-data's job.
2. Each category maps to the promotion with the highest rate (the first one wins ties).
3. Each line that is not cancelled, not discount-restricted, has no `category_discount`
   discount yet and whose category is mapped gets a `DiscountPercentage` discount appended
   (computed per unit like every percentage, §5.2). A line whose existing amount discounts
   leave no room for it is skipped rather than failing the whole cart.
4. An applied discount stays (even if the promotion ends); manual line discounts replace the
   list, and the next recalc appends it again after them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ..domain.models import Cart, Discount, DiscountType, LineItem
from ..errors import AmountLessThanDiscountError
from ..pricing.engine import PromotionPhase
from ..pricing.lines import compute_line
from ..pricing.money import YEN_DIGITS, RoundMethod, to_decimal

CATEGORY_DISCOUNT = "category_discount"


@dataclass(frozen=True, slots=True)
class ActivePromotion:
    """A promotion as master-data's `/promotions/active` returns it (snake_case here)."""

    promotion_code: str
    promotion_type: str
    name: str
    detail: Mapping[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class CategoryRate:
    promotion_code: str
    name: str
    rate: Decimal


def _parse_detail(detail: Mapping[str, Any] | None) -> tuple[list[str], Decimal] | None:
    if not isinstance(detail, Mapping):
        return None
    codes = detail.get("targetCategoryCodes", detail.get("target_category_codes"))
    rate = detail.get("discountRate", detail.get("discount_rate"))
    if not isinstance(codes, list) or not all(isinstance(c, str) for c in codes):
        return None
    try:
        value = to_decimal(rate)
    except (TypeError, ValueError):
        return None
    if not 0 < value <= 100:
        return None
    return codes, value


def best_rate_by_category(promotions: Iterable[ActivePromotion]) -> dict[str, CategoryRate]:
    """category code → the promotion with the highest rate (first one wins ties)."""
    best: dict[str, CategoryRate] = {}
    for promo in promotions:
        if promo.promotion_type != CATEGORY_DISCOUNT:
            continue
        parsed = _parse_detail(promo.detail)
        if parsed is None:
            continue
        codes, rate = parsed
        for code in codes:
            if code not in best or rate > best[code].rate:
                best[code] = CategoryRate(promo.promotion_code, promo.name, rate)
    return best


def _eligible(line: LineItem, rates: Mapping[str, CategoryRate]) -> bool:
    return (
        not line.is_cancelled
        and not line.is_discount_restricted
        and line.category_code in rates
        and not any(d.promotion_type == CATEGORY_DISCOUNT for d in line.discounts)
    )


def apply_category_promotions(
    cart: Cart,
    promotions: Iterable[ActivePromotion],
    method: RoundMethod = RoundMethod.ROUND,
    digits: int = YEN_DIGITS,
) -> Cart:
    """Append the category discount to every eligible line; returns a new cart."""
    rates = best_rate_by_category(promotions)
    if not rates:
        return cart
    lines = []
    changed = False
    for line in cart.line_items:
        if _eligible(line, rates):
            promo = rates[line.category_code]  # type: ignore[index]
            discount = Discount(
                seq_no=len(line.discounts) + 1,
                discount_type=DiscountType.PERCENTAGE,
                discount_value=promo.rate,
                discount_detail=promo.name,
                promotion_code=promo.promotion_code,
                promotion_type=CATEGORY_DISCOUNT,
            )
            candidate = line.model_copy(update={"discounts": (*line.discounts, discount)})
            try:
                compute_line(candidate, method, digits)
            except AmountLessThanDiscountError:
                candidate = line
            changed = changed or candidate is not line
            line = candidate
        lines.append(line)
    return cart.model_copy(update={"line_items": tuple(lines)}) if changed else cart


@dataclass(frozen=True)
class CategoryPromotion:
    """The rule as a `Promotion` the engine runs (phase `line_item`), over promotions the
    plugin has already fetched for this request."""

    promotions: tuple[ActivePromotion, ...]
    method: RoundMethod = RoundMethod.ROUND
    digits: int = YEN_DIGITS
    phase: PromotionPhase = PromotionPhase.LINE_ITEM

    def apply(self, cart: Cart) -> Cart:
        return apply_category_promotions(cart, self.promotions, self.method, self.digits)
