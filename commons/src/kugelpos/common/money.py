"""Money at the edges: `Decimal` in code, a double in MongoDB, a JSON number on the wire.

A double is exact here, not approximate: amounts are limited to 15 significant digits, and
an IEEE double round-trips every decimal of up to 15 significant digits through its shortest
repr, so `Decimal(repr(float(d))) == d`. Values stored as Decimal128 or as decimal text are
read too.

Why a double and not Decimal128 or integer minor units (MongoDB and Cosmos DB for MongoDB
store all three, compare numbers of every type with each other and index them alike):
- nothing sums a stored amount in the database. What is summed there is integers: the
  report's counters (millionths, `$inc`) and stock levels (units of 1/10,000, `$inc`). Every
  other amount is written and read back whole, which a double does exactly. A pipeline that
  ever sums stored amounts must sum whole units (`$round` of the amount times 10^places),
  never the doubles themselves;
- a transaction log is stored in the shape it is published in, and the journal and the report
  keep the logs they receive as they arrived: JSON numbers, for consumers in any language. A
  double is that number; Decimal128 or minor units would be a conversion at every boundary
  (and minor units a second set of field names and a currency's decimal places to know);
- 8 bytes against Decimal128's 16, in documents and indexes alike.

Arithmetic is always on `Decimal`; floats only exist in storage and JSON.

Client amounts (`amount_in`, `WholeAmount`, `exact_number`) take any JSON number whose value
fits the currency: v1 clients send `220.0` because our own responses carry it, so a float
with a whole value is the same amount as the int. A real fraction of the smallest unit
(`1.5` yen) is refused with the error type `AMOUNT_PRECISION`, which the web handlers answer
with a 400 envelope (not the 422 of a malformed body).
"""

from __future__ import annotations

import math
from decimal import ROUND_DOWN, Decimal, InvalidOperation
from typing import Annotated, Any

from bson.decimal128 import Decimal128
from pydantic import BeforeValidator, Field, PlainSerializer, SerializationInfo, WithJsonSchema
from pydantic_core import PydanticCustomError

from .db.documents import Document

ZERO = Decimal(0)
MAX_DIGITS = 15
# The pydantic error type of "more decimals than the currency has" (handlers make it a 400).
AMOUNT_PRECISION = "amount_precision"
_FAR_TOO_LARGE = 20  # decimal exponent beyond every amount field's digit limit


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


def _fits(value: Decimal, decimal_places: int) -> bool:
    """True when `value` is a whole number of `10^-decimal_places` units."""
    if value.as_tuple().exponent >= -decimal_places:  # type: ignore[operator]
        return True
    if value.adjusted() >= _FAR_TOO_LARGE:
        return True  # no amount: the digit limit refuses it (quantize could overflow)
    return value == value.quantize(Decimal(1).scaleb(-decimal_places), rounding=ROUND_DOWN)


def _canonical(value: Decimal) -> Decimal:
    """`220.0` and `2.2E+2` become `220`; a value too large to be an amount is left for the
    digit limit to refuse (quantizing it could overflow the context)."""
    if value.adjusted() >= _FAR_TOO_LARGE:
        return value
    if value == value.to_integral_value():
        return value.quantize(Decimal(1))
    return value.normalize()


def exact_number(decimal_places: int, *, numbers_only: bool = False) -> BeforeValidator:
    """The validator behind every client amount: int, float (through its shortest repr, so
    exact), `Decimal` and, unless `numbers_only`, a numeric string. Booleans are refused; a
    finite value with more than `decimal_places` decimals fails with `AMOUNT_PRECISION`.
    Anything else is handed on unchanged for the `Decimal` schema to refuse."""

    def validate(value: Any) -> Any:
        if isinstance(value, bool):
            raise PydanticCustomError("decimal_type", "Input should be a number, not a boolean")
        if isinstance(value, float):
            if not math.isfinite(value):
                raise PydanticCustomError("finite_number", "Input should be a finite number")
            value = Decimal(repr(value))
        elif isinstance(value, int):
            value = Decimal(value)
        elif isinstance(value, str):
            if numbers_only:
                raise PydanticCustomError("decimal_type", "Input should be a JSON number")
            try:
                value = Decimal(value.strip())
            except InvalidOperation:
                return value
        if isinstance(value, Decimal) and value.is_finite():
            if not _fits(value, decimal_places):
                raise PydanticCustomError(
                    AMOUNT_PRECISION,
                    "{value} is a fraction of the smallest currency unit"
                    " (at most {decimal_places} decimal places)",
                    {"value": str(value), "decimal_places": decimal_places},
                )
            return _canonical(value)
        return value

    return BeforeValidator(validate)


def amount_in(
    decimal_places: int, *, numbers_only: bool = False, max_digits: int = MAX_DIGITS
) -> Any:
    """An amount accepted from clients: a finite JSON number with at most `max_digits` digits
    and `decimal_places` decimals (a whole-valued float such as `220.0` included)."""
    return Annotated[
        Decimal,
        exact_number(decimal_places, numbers_only=numbers_only),
        Field(max_digits=max_digits, decimal_places=decimal_places, allow_inf_nan=False),
        PlainSerializer(_serialize, when_used="always"),
    ]


# Whole currency units, where the contract types the amount `integer` (cart payments, voids
# and returns): `220` and `220.0` are the same amount, `1.5` is a 400. JSON Schema's
# `integer` is any number without a fraction, so the documented type stays exact.
WholeAmount = Annotated[
    amount_in(0, numbers_only=True),
    WithJsonSchema({"type": "integer"}),
]


class MoneyDocument(Document):
    """A stored document whose `Decimal` fields are written as doubles."""

    def to_mongo(self) -> dict:
        return to_bson(super().to_mongo())
