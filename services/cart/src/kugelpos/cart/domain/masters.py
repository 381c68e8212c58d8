"""Master data the calculation needs, as plain values (fetched and cached by others).

Defaults are the configuration tables: the tax table every service shares (commons
`taxes.DEFAULT_TAX_TABLE`, cart §5.3, master-data §A9) and `STAMP_DUTY_MASTER` (cart §10.4).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field

from kugelpos.common.taxes import DEFAULT_TAX_TABLE

from ..pricing.money import ZERO, RoundMethod
from .models import TaxType


class _Master(BaseModel):
    model_config = ConfigDict(frozen=True)


class TaxMaster(_Master):
    tax_code: str
    tax_type: TaxType
    tax_name: str
    rate: Decimal  # percent: 10 = 10 %
    # Decimal places kept when rounding a group's tax. Any value <= 0 means whole units
    # (spec §5.3 / §18.12: the default -1 has always meant "yen", never "tens").
    round_digit: int = 0
    round_method: RoundMethod | None = None


class ItemMaster(_Master):
    """The fields of the master-data item `details` the cart uses (spec §15.3)."""

    item_code: str
    description: str = ""
    description_short: str | None = None
    unit_price: Decimal = ZERO
    store_price: Decimal | None = None
    category_code: str | None = None
    tax_code: str
    is_discount_restricted: bool = False
    # A gift card or a reload: the price is money put on a card (no tax, no discount, no
    # promotion), sold with the card's number (issue 26).
    is_stored_value: bool = False


class PaymentMaster(_Master):
    """Payment master (master-data §A7). `limit_amount` 0 = no limit."""

    payment_code: str
    description: str = ""
    limit_amount: Decimal = ZERO
    can_refund: bool = True
    can_deposit_over: bool = False
    can_change: bool = False
    is_active: bool = True


class StampDutyTier(_Master):
    target_amount: Decimal = Field(ge=0)
    stamp_duty_amount: Decimal = Field(ge=0)


# What a cart computes with when master-data has no taxes for its tenant.
DEFAULT_TAX_MASTER: tuple[TaxMaster, ...] = tuple(
    TaxMaster.model_validate(tax._asdict()) for tax in DEFAULT_TAX_TABLE
)

DEFAULT_STAMP_DUTY_MASTER: tuple[StampDutyTier, ...] = tuple(
    StampDutyTier(target_amount=Decimal(target), stamp_duty_amount=Decimal(duty))
    for target, duty in (
        (1_000_000_000, 200_000),
        (500_000_000, 150_000),
        (300_000_000, 100_000),
        (200_000_000, 60_000),
        (100_000_000, 40_000),
        (50_000_000, 20_000),
        (30_000_000, 10_000),
        (20_000_000, 6_000),
        (10_000_000, 4_000),
        (5_000_000, 2_000),
        (3_000_000, 1_000),
        (2_000_000, 600),
        (1_000_000, 400),
        (50_000, 200),
    )
)


def tax_master_by_code(taxes: Iterable[TaxMaster]) -> Mapping[str, TaxMaster]:
    return {tax.tax_code: tax for tax in taxes}
