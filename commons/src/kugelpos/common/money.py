"""Money at the edges: `Decimal` in code, a double in MongoDB, a JSON number on the wire.

A double is exact here, not approximate: amounts are limited to 15 significant digits, and
an IEEE double round-trips every decimal of up to 15 significant digits through its shortest
repr, so `Decimal(repr(float(d))) == d`. Doubles also let MongoDB sum amounts in
aggregations. (Decimal128 would be the other choice, but the embedded MongoDB cannot size
a database holding one, which breaks `listDatabases` for every service sharing it.) Values
stored as Decimal128 or as decimal text are read too.

Arithmetic is always on `Decimal`; floats only exist in storage and JSON.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from bson.decimal128 import Decimal128
from pydantic import BeforeValidator, Field, PlainSerializer, SerializationInfo

from .db.documents import Document

ZERO = Decimal(0)
MAX_DIGITS = 15


def from_storage(value: Any) -> Any:
    """Whatever MongoDB or a client handed over, as `Decimal` (validation does the rest)."""
    if isinstance(value, Decimal128):
        return value.to_decimal()
    if isinstance(value, float):
        return Decimal(repr(value))
    return value


def json_number(value: Decimal) -> int | float:
    """`1200` for whole amounts, `1150.25` otherwise."""
    return int(value) if value == value.to_integral_value() else float(value)


def to_bson(value: Any) -> Any:
    """Decimals become doubles, recursively (for hand-written `$set` updates too)."""
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, dict):
        return {k: to_bson(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_bson(v) for v in value]
    return value


def _serialize(value: Decimal, info: SerializationInfo) -> Any:
    return json_number(value) if info.mode == "json" else value


# A stored or returned amount: read from any stored form, written as a JSON number.
Money = Annotated[
    Decimal,
    BeforeValidator(from_storage),
    PlainSerializer(_serialize, when_used="always"),
]


def amount_in(decimal_places: int) -> Any:
    """An amount accepted from clients: finite, at most 15 digits and `decimal_places`."""
    return Annotated[
        Decimal,
        Field(max_digits=MAX_DIGITS, decimal_places=decimal_places, allow_inf_nan=False),
        PlainSerializer(_serialize, when_used="always"),
    ]


class MoneyDocument(Document):
    """A stored document whose `Decimal` fields are written as doubles."""

    def to_mongo(self) -> dict:
        return to_bson(super().to_mongo())
