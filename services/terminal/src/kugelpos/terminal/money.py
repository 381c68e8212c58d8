"""Money: `Decimal` in code, its exact decimal text in MongoDB, a JSON number on the wire.

Stored as text rather than Decimal128: the local MongoDB stand-in (mongoeco) cannot size a
database holding Decimal128, which breaks `listDatabases` for every service sharing it.

Amounts are never float arithmetic; the float only appears when a value is written as JSON
(amounts have at most 4 decimal places and 15 digits, which a double renders exactly).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from bson import Decimal128
from pydantic import BeforeValidator, Field, PlainSerializer, SerializationInfo

from kugelpos.common.db.documents import Document

ZERO = Decimal(0)
MAX_DIGITS = 15
DECIMAL_PLACES = 4


def _to_decimal(value: Any) -> Any:
    if isinstance(value, Decimal128):  # tolerated on read
        return value.to_decimal()
    return value


def to_stored(value: Decimal | None) -> str | None:
    """The stored form of an amount (for `$set` updates written by hand)."""
    return None if value is None else str(value)


def json_number(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


def _serialize(value: Decimal, info: SerializationInfo) -> Any:
    if info.mode == "json":
        return json_number(value)
    if (info.context or {}).get("mongo"):
        return to_stored(value)
    return value


# A stored or returned amount.
Money = Annotated[
    Decimal,
    BeforeValidator(_to_decimal),
    PlainSerializer(_serialize, when_used="always"),
]
# Amounts accepted from clients.
AmountIn = Annotated[
    Decimal,
    Field(max_digits=MAX_DIGITS, decimal_places=DECIMAL_PLACES, allow_inf_nan=False),
    PlainSerializer(_serialize, when_used="always"),
]


def format_amount(value: Decimal | None) -> str:
    """`1,234` or `1,234.5` with a yen sign, for receipts."""
    if value is None:
        return "-"
    text = f"{value:,.0f}" if value == value.to_integral_value() else f"{value:,}"
    return f"¥{text}"


class StoredDocument(Document):
    """A document whose Money fields are written as exact decimal text."""

    def to_mongo(self) -> dict:
        return self.model_dump(mode="python", by_alias=False, context={"mongo": True})
