"""The tax vocabulary every service that prices or lists taxes shares, and the default tax
table (the configuration's `TAX_MASTER` when none is given): master-data serves it, the cart
computes with it when master-data has none for a tenant."""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from typing import NamedTuple


class TaxType(StrEnum):
    EXTERNAL = "External"  # tax added on top of the price
    INTERNAL = "Internal"  # the price includes the tax
    EXEMPT = "Exempt"


class RoundMethod(StrEnum):
    ROUND = "Round"  # half up
    FLOOR = "Floor"
    CEIL = "Ceil"


class DefaultTax(NamedTuple):
    """One row of the default table; each service reads it into its own model."""

    tax_code: str
    tax_type: TaxType
    tax_name: str
    rate: Decimal  # percent: 10 = 10 %
    # Decimal places kept when rounding a group's tax; any value <= 0 means whole units (the
    # table's -1 has always meant "yen", never "tens").
    round_digit: int
    round_method: RoundMethod | None


DEFAULT_TAX_TABLE: tuple[DefaultTax, ...] = (
    DefaultTax("00", TaxType.EXEMPT, "非課税", Decimal(0), 0, None),
    DefaultTax("01", TaxType.EXTERNAL, "外税10%", Decimal(10), -1, RoundMethod.FLOOR),
    DefaultTax("02", TaxType.INTERNAL, "内税10%", Decimal(10), -1, RoundMethod.FLOOR),
    DefaultTax("11", TaxType.EXTERNAL, "外税 8%", Decimal(8), -1, RoundMethod.FLOOR),
    DefaultTax("12", TaxType.INTERNAL, "内税 8%", Decimal(8), -1, RoundMethod.FLOOR),
)
