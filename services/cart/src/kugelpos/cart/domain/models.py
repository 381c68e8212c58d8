"""The cart as the calculation engine sees it.

Field names are the snake_case forms of the contract's camelCase fields (`lineNo` → `line_no`);
the API layer maps them and decides how a `Decimal` is written. Every model is frozen: the
engine and the operations return new carts and never mutate their input.
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from kugelpos.common.taxes import TaxType

from ..pricing.money import ZERO

DEFAULT_TRANSACTION_TYPE = 101  # NormalSales (spec §14)
UNASSIGNED_NUMBER = -1  # transaction_no / receipt_no before bill or cancel


class CartStatus(StrEnum):
    """Stored string values of the cart state (spec §4). `Initial` is never persisted."""

    INITIAL = "Initial"
    IDLE = "Idle"
    ENTERING_ITEM = "EnteringItem"
    PAYING = "Paying"
    COMPLETED = "Completed"
    CANCELLED = "Cancelled"


class DiscountType(StrEnum):
    AMOUNT = "DiscountAmount"
    PERCENTAGE = "DiscountPercentage"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Person(_Frozen):
    """Staff or user reference: `{id, name}`."""

    id: str
    name: str | None = None


class Discount(_Frozen):
    """A line discount, a subtotal discount or one line's share of a subtotal discount.

    `discount_value` is what was asked (an amount, or a percent where 10 = 10 %);
    `discount_amount` is what the engine computed from it.
    """

    seq_no: int = 0
    discount_type: DiscountType
    discount_value: Decimal
    discount_amount: Decimal = ZERO
    discount_detail: str | None = None
    promotion_code: str | None = None
    promotion_type: str | None = None


class LineItem(_Frozen):
    line_no: int
    item_code: str
    item_name: str = ""
    item_name_short: str | None = None
    category_code: str | None = None
    tax_code: str
    unit_price: Decimal
    unit_price_original: Decimal | None = None
    is_unit_price_changed: bool = False
    quantity: int
    # After line discounts, before the line's share of subtotal discounts (spec §3.3).
    amount: Decimal = ZERO
    discounts: tuple[Discount, ...] = ()
    # This line's shares of the subtotal discounts (one entry per subtotal discount, same
    # seq_no); they reduce the tax target, never `amount`.
    discounts_allocated: tuple[Discount, ...] = ()
    image_urls: tuple[str, ...] = ()
    is_cancelled: bool = False
    is_discount_restricted: bool = False
    # A card sold or reloaded: no tax; its money goes onto the card the bill's log names by
    # its pending load (`card_load_id`); the number only masked here (`card_no`).
    is_stored_value: bool = False
    card_no: str | None = None
    card_load_id: str | None = None

    @property
    def gross_amount(self) -> Decimal:
        """unit price * quantity, before any discount."""
        return self.unit_price * self.quantity

    @property
    def allocated_discount_amount(self) -> Decimal:
        return sum((d.discount_amount for d in self.discounts_allocated), ZERO)

    @property
    def line_discount_amount(self) -> Decimal:
        return sum((d.discount_amount for d in self.discounts), ZERO)

    @property
    def net_amount(self) -> Decimal:
        """What the line contributes to its tax group: amount - allocated subtotal discounts."""
        return self.amount - self.allocated_discount_amount


class Payment(_Frozen):
    """One tender. `payment_amount` is what it pays off the balance (net of change);
    `deposit_amount` what was handed over; `change_amount` what went back."""

    payment_no: int
    payment_code: str
    payment_name: str = ""
    payment_amount: Decimal
    deposit_amount: Decimal
    change_amount: Decimal = ZERO
    payment_detail: str | None = None
    # Paid by a card (the hold the payment placed) or refunded onto one (its pending load);
    # the number only masked.
    card_no: str | None = None
    hold_id: str | None = None
    card_load_id: str | None = None


class Tax(_Frozen):
    tax_no: int
    tax_code: str
    tax_type: TaxType
    tax_name: str
    tax_amount: Decimal
    target_amount: Decimal
    target_quantity: int


class Cart(_Frozen):
    cart_id: str
    cart_status: CartStatus = CartStatus.IDLE
    tenant_id: str = ""
    store_code: str = ""
    store_name: str | None = None
    terminal_no: int = 0
    transaction_type: int = DEFAULT_TRANSACTION_TYPE
    transaction_no: int = UNASSIGNED_NUMBER
    receipt_no: int = UNASSIGNED_NUMBER
    business_date: str | None = None
    user: Person | None = None
    staff: Person | None = None

    line_items: tuple[LineItem, ...] = ()
    payments: tuple[Payment, ...] = ()
    taxes: tuple[Tax, ...] = ()
    subtotal_discounts: tuple[Discount, ...] = ()

    # Computed by the engine (spec §5.5).
    subtotal_amount: Decimal = ZERO  # Σ line amounts, before subtotal discounts
    total_amount: Decimal = ZERO  # after all discounts; internal tax included, external not
    tax_amount: Decimal = ZERO  # external taxes only
    total_amount_with_tax: Decimal = ZERO
    total_quantity: int = 0
    total_discount_amount: Decimal = ZERO
    deposit_amount: Decimal = ZERO
    change_amount: Decimal = ZERO
    balance_amount: Decimal = ZERO

    # Set by bill / cancel (spec §10.4).
    is_cancelled: bool = False
    is_stamp_duty_applied: bool = False
    stamp_duty_target_amount: Decimal = ZERO
    stamp_duty_amount: Decimal = ZERO

    receipt_text: str | None = None
    journal_text: str | None = None
