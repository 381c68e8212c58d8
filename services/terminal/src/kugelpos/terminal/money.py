"""Terminal amounts: the shared money types (`kugelpos.common.money`) plus what only the
terminal needs: the client amount type and receipt formatting."""

from __future__ import annotations

from decimal import Decimal

from kugelpos.common.money import ZERO, Money, MoneyDocument, amount_in, to_bson

__all__ = ["ZERO", "AmountIn", "Money", "StoredDocument", "format_amount", "to_stored"]

DECIMAL_PLACES = 4


def to_stored(value: Decimal | None) -> float | None:
    """The stored form of an amount (for `$set` updates written by hand)."""
    return to_bson(value)


# Amounts accepted from clients.
AmountIn = amount_in(DECIMAL_PLACES)
StoredDocument = MoneyDocument


def format_amount(value: Decimal | None) -> str:
    """`1,234` or `1,234.5` with a yen sign, for receipts."""
    if value is None:
        return "-"
    text = f"{value:,.0f}" if value == value.to_integral_value() else f"{value:,}"
    return f"¥{text}"
