"""API types shared by the resources: codes, money, rates, timestamps."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated

from pydantic import AfterValidator, Field, PlainSerializer, StringConstraints

from kugelpos.common.money import exact_number
from kugelpos.common.schemas import ApiModel

MAX_AMOUNT = Decimal("999999999999")  # 10^12 - 1 currency units
DATETIME_FORMAT = "%Y-%m-%d %H:%M:%S"


def _number(value: Decimal) -> float | int:
    """JSON numbers, as the v1 contract has them (`120.0`)."""
    return float(value)


# A natural key that also travels in URL paths: printable, no whitespace, no / ? # % \.
Code = Annotated[
    str, StringConstraints(min_length=1, max_length=64, pattern=r"^[^\s/?#%\\\x00-\x1f\x7f]+$")
]
Name = Annotated[str, StringConstraints(min_length=1, max_length=256)]
Text = Annotated[str, StringConstraints(max_length=1024)]
Url = Annotated[str, StringConstraints(max_length=2048)]

JsonNumber = PlainSerializer(_number, return_type=float, when_used="json")
MAX_SIGNIFICANT_DIGITS = 15
MAX_DECIMALS = 6


def _exact(value: Decimal) -> Decimal:
    """At most 15 significant digits, so it is stored exactly (documents.py); the 6 decimals
    are checked before, by `exact_number` (more is a 400)."""
    _sign, digits, _exponent = value.normalize().as_tuple()
    if len(digits) > MAX_SIGNIFICANT_DIGITS:
        raise ValueError(f"at most {MAX_SIGNIFICANT_DIGITS} significant digits")
    return value


# Non-negative amount (prices, costs, limits): any JSON number, `120.0` as well as `120`.
Money = Annotated[
    Decimal,
    exact_number(MAX_DECIMALS),
    Field(ge=0, le=MAX_AMOUNT, allow_inf_nan=False),
    AfterValidator(_exact),
    JsonNumber,
]
# Any stored decimal on its way out.
Number = Annotated[Decimal, JsonNumber]


def display_time(moment: datetime | None) -> str | None:
    """`YYYY-MM-DD HH:MM:SS` in UTC, the same in create responses and later reads."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime(DATETIME_FORMAT)


class TimestampedResponse(ApiModel):
    entry_datetime: str | None = None
    last_update_datetime: str | None = None
