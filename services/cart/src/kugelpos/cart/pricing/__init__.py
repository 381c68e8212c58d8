"""Pure pricing: money rounding, line amounts, taxes, subtotal discounts, totals, recalc."""
