"""Terminal amounts: the shared money types (`kugelpos.common.money`) plus the client amount
type the terminal accepts."""

from __future__ import annotations

from decimal import Decimal

from kugelpos.common.money import ZERO, Money, MoneyDocument, amount_in, to_bson

__all__ = ["ZERO", "AmountIn", "Money", "StoredDocument", "to_stored"]

DECIMAL_PLACES = 4


def to_stored(value: Decimal | None) -> float | None:
    """The stored form of an amount (for `$set` updates written by hand)."""
    return to_bson(value)


# Amounts accepted from clients.
AmountIn = amount_in(DECIMAL_PLACES)
StoredDocument = MoneyDocument
