"""Money: exact through doubles in storage and numbers in JSON."""

from __future__ import annotations

from decimal import Decimal

import pytest
from bson.decimal128 import Decimal128
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from kugelpos.common.money import (
    AMOUNT_PRECISION,
    Money,
    MoneyDocument,
    WholeAmount,
    amount_in,
    from_storage,
    json_number,
    to_bson,
)

# Up to 15 significant digits, as the API admits.
amounts = st.decimals(
    min_value=Decimal("-999999999999.999"),
    max_value=Decimal("999999999999.999"),
    places=3,
    allow_nan=False,
    allow_infinity=False,
)


@given(amounts)
def test_a_double_round_trips_every_admitted_amount_exactly(value: Decimal) -> None:
    assert from_storage(to_bson(value)) == value


def test_stored_forms_are_all_read_as_decimal() -> None:
    assert from_storage(1150.25) == Decimal("1150.25")
    assert from_storage(Decimal128("1150.25")) == Decimal("1150.25")
    assert from_storage("1150.25") == "1150.25"  # text is left to validation
    assert from_storage(0.1) == Decimal("0.1")


def test_json_number_keeps_whole_amounts_integral() -> None:
    assert json_number(Decimal("1200")) == 1200 and isinstance(json_number(Decimal(1200)), int)
    assert json_number(Decimal("1150.25")) == 1150.25


class Till(MoneyDocument):
    cash: Money
    nested: dict[str, Money] = {}


def test_documents_store_doubles_and_answer_numbers() -> None:
    doc = Till(cash="100.10", nested={"a": Decimal("0.3")})
    stored = doc.to_mongo()
    assert stored["cash"] == 100.1 and isinstance(stored["cash"], float)
    assert stored["nested"] == {"a": 0.3}
    assert Till.model_validate(stored).cash == Decimal("100.10")
    assert doc.model_dump(mode="json")["cash"] == 100.1
    # Arithmetic stays exact on Decimal: 0.1 + 0.2 is 0.3, not 0.30000000000000004.
    assert Till(cash=0.1).cash + Till(cash=0.2).cash == Decimal("0.3")


class Body(BaseModel):
    amount: amount_in(2)


def test_client_amounts_are_bounded() -> None:
    assert Body(amount="12.34").amount == Decimal("12.34")
    for bad in ("1.234", "1e20", "NaN", "Infinity"):
        with pytest.raises(ValidationError):
            Body(amount=bad)


# ---- v1 clients send whole amounts as floats (`220.0`) ----------------------------------------


class Payment(BaseModel):
    amount: WholeAmount


def _error_type(model: type[BaseModel], raw: str) -> str:
    with pytest.raises(ValidationError) as err:
        model.model_validate_json(raw)
    return err.value.errors()[0]["type"]


whole = st.integers(min_value=-(10**15) + 1, max_value=10**15 - 1)


@given(whole)
def test_a_whole_amount_is_the_same_as_int_or_as_float(value: int) -> None:
    as_int = Payment.model_validate_json(f'{{"amount": {value}}}').amount
    as_float = Payment.model_validate_json(f'{{"amount": {float(value)!r}}}').amount
    assert as_int == as_float == Decimal(value)
    assert as_int.as_tuple().exponent == 0  # canonical: `220`, never `2.2E+2` or `220.0`
    assert Payment(amount=as_float).model_dump(mode="json")["amount"] == value


# With two decimals, 13 whole digits keep within the 15 a double holds exactly.
@given(st.integers(min_value=-(10**13) + 1, max_value=10**13 - 1), st.integers(1, 99))
def test_a_fraction_of_the_smallest_unit_is_refused_as_precision(value: int, cents: int) -> None:
    raw = f"{value}.{cents:02d}"
    if Decimal(raw) == Decimal(raw).to_integral_value():
        return
    assert _error_type(Payment, f'{{"amount": {raw}}}') == AMOUNT_PRECISION


@given(
    st.decimals(
        min_value=Decimal("-99999999999.9999"),
        max_value=Decimal("99999999999.9999"),
        places=4,
        allow_nan=False,
        allow_infinity=False,
    )
)
def test_amounts_with_decimals_are_exact_from_json_floats(value: Decimal) -> None:
    body = amount_in(4)
    model = type("Cash", (BaseModel,), {"__annotations__": {"amount": body}})
    parsed = model.model_validate_json(f'{{"amount": {float(value)!r}}}').amount
    assert parsed == value


def test_whole_amounts_refuse_what_is_not_a_json_number() -> None:
    for raw in ('"220"', "true", "null", "[220]"):
        assert _error_type(Payment, f'{{"amount": {raw}}}') != AMOUNT_PRECISION
    assert _error_type(Payment, '{"amount": 1e20}') == "decimal_max_digits"
    assert _error_type(Body, '{"amount": 1.005}') == AMOUNT_PRECISION
    assert Body.model_validate_json('{"amount": 1.5}').amount == Decimal("1.5")


def test_whole_amounts_are_documented_as_integers() -> None:
    # JSON Schema's `integer` is any number without a fraction: `220.0` is one.
    assert Payment.model_json_schema()["properties"]["amount"]["type"] == "integer"
