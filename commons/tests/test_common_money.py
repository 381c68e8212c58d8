"""Money: exact through doubles in storage and numbers in JSON."""

from __future__ import annotations

from decimal import Decimal

import pytest
from bson.decimal128 import Decimal128
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from kugelpos.common.money import (
    Money,
    MoneyDocument,
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
