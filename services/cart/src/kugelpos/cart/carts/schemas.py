"""API models of carts (v1 contract: camelCase out, camelCase or snake_case in).

Money leaves as JSON numbers (`2648.0`); inside it is `Decimal` end to end. Added to the
contract (never renamed): line items carry `categoryCode` and `isDiscountRestricted`,
discounts `promotionCode` / `promotionType`, payments `depositAmount`.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from pydantic import Field, PlainSerializer, StringConstraints

from kugelpos.common.money import WholeAmount, amount_in
from kugelpos.common.schemas import ApiModel

from ..domain.models import Cart, Discount, LineItem, Payment, Person, Tax
from ..pricing.money import ZERO

Number = Annotated[Decimal, PlainSerializer(float, return_type=float, when_used="json")]
# Prices and discount values: any JSON number (`100.0` too) with at most 6 decimals; more is
# a 400 (commons.money).
InNumber = amount_in(6, max_digits=18)
Code = Annotated[str, StringConstraints(min_length=1, max_length=64)]
Text = Annotated[str, StringConstraints(max_length=200)]
Detail = Annotated[str, StringConstraints(max_length=4000)]


# ---- requests ---------------------------------------------------------------------------------


class CartCreateRequest(ApiModel):
    transaction_type: Annotated[int, Field(ge=-999, le=999)] | None = None
    user_id: Text | None = None
    user_name: Text | None = None


CardNo = Annotated[str, StringConstraints(pattern=r"^[0-9]{16}$")]
CardPin = Annotated[str, StringConstraints(pattern=r"^[0-9]{4,8}$")]


class ItemRequest(ApiModel):
    item_code: Code
    quantity: int
    unit_price: InNumber | None = None
    # An item sold as stored value (a gift card, a reload): the card the price goes onto.
    card_no: CardNo | None = None


class CardDetail(ApiModel):
    """The `detail` of a payment by card (payment code `21`): the card and its PIN, sent to
    the stored-value service and never kept."""

    card_no: CardNo
    pin: CardPin | None = None


class ItemQuantityUpdateRequest(ApiModel):
    quantity: int


class ItemUnitPriceUpdateRequest(ApiModel):
    unit_price: InNumber


class DiscountRequest(ApiModel):
    discount_type: Code
    discount_value: InNumber
    discount_detail: Text | None = None


class PaymentRequest(ApiModel):
    payment_code: Code
    # Whole currency units: `220` and `220.0` (as the cart answers it) are the same amount;
    # `1.5` is a 400 (commons.money.WholeAmount).
    amount: WholeAmount
    # A note (v1), or for a payment by card its number and PIN.
    detail: CardDetail | Detail | None = None


# ---- responses --------------------------------------------------------------------------------


class CartCreateResponse(ApiModel):
    cart_id: str


class BaseDiscount(ApiModel):
    discount_type: str
    discount_value: Number
    discount_amount: Number
    discount_detail: str | None = None
    promotion_code: str | None = None
    promotion_type: str | None = None

    @classmethod
    def of(cls, d: Discount) -> BaseDiscount:
        return cls(
            discount_type=d.discount_type.value,
            discount_value=d.discount_value,
            discount_amount=d.discount_amount,
            discount_detail=d.discount_detail,
            promotion_code=d.promotion_code,
            promotion_type=d.promotion_type,
        )


class BaseTranLineItem(ApiModel):
    line_no: int
    item_code: str
    item_name: str
    category_code: str | None = None
    unit_price: Number
    unit_price_original: Number | None = None
    is_unit_price_changed: bool
    quantity: int
    amount: Number
    discounts: list[BaseDiscount]
    image_urls: list[str]
    is_cancelled: bool
    is_discount_restricted: bool = False
    is_stored_value: bool = False
    card_no: str | None = None  # masked

    @classmethod
    def of(cls, line: LineItem) -> BaseTranLineItem:
        return cls(
            line_no=line.line_no,
            item_code=line.item_code,
            item_name=line.item_name,
            category_code=line.category_code,
            unit_price=line.unit_price,
            unit_price_original=line.unit_price_original or ZERO,
            is_unit_price_changed=line.is_unit_price_changed,
            quantity=line.quantity,
            amount=line.amount,
            discounts=[BaseDiscount.of(d) for d in line.discounts],
            image_urls=list(line.image_urls),
            is_cancelled=line.is_cancelled,
            is_discount_restricted=line.is_discount_restricted,
            is_stored_value=line.is_stored_value,
            card_no=line.card_no,
        )


class BaseTranPayment(ApiModel):
    payment_no: int
    payment_code: str
    payment_name: str
    payment_amount: Number
    payment_detail: str | None = None
    deposit_amount: Number = ZERO
    # Beyond v1 (issue 26): a payment by card, or a refund onto one (number masked).
    card_no: str | None = None
    hold_id: str | None = None

    @classmethod
    def of(cls, p: Payment) -> BaseTranPayment:
        return cls(
            payment_no=p.payment_no,
            payment_code=p.payment_code,
            payment_name=p.payment_name,
            payment_amount=p.payment_amount,
            payment_detail=p.payment_detail,
            card_no=p.card_no,
            hold_id=p.hold_id,
            deposit_amount=p.deposit_amount,
        )


class BaseTranTax(ApiModel):
    tax_no: int
    tax_code: str
    tax_type: str
    tax_name: str
    tax_amount: Number
    target_amount: Number
    target_quantity: int

    @classmethod
    def of(cls, t: Tax) -> BaseTranTax:
        return cls(
            tax_no=t.tax_no,
            tax_code=t.tax_code,
            tax_type=t.tax_type.value,
            tax_name=t.tax_name,
            tax_amount=t.tax_amount,
            target_amount=t.target_amount,
            target_quantity=t.target_quantity,
        )


class BaseTranStaff(ApiModel):
    id: str
    name: str

    @classmethod
    def of(cls, person: Person | None) -> BaseTranStaff | None:
        return None if person is None else cls(id=person.id, name=person.name or "")


class BaseTranStatus(ApiModel):
    is_cancelled: bool = False
    is_voided: bool = False
    is_refunded: bool = False


class CartResponse(ApiModel):
    cart_id: str
    cart_status: str
    tenant_id: str
    store_code: str
    store_name: str | None = None
    terminal_no: int
    transaction_type: int
    transaction_no: int
    receipt_no: int
    total_amount: Number
    # v1 compatibility (spec §18.15): the same value as totalAmount.
    subtotal_amount: Number
    total_amount_with_tax: Number
    total_quantity: int
    total_discount_amount: Number
    deposit_amount: Number
    change_amount: Number
    balance_amount: Number
    stamp_duty_amount: Number | None = None
    business_date: str | None = None
    generate_date_time: str | None = None
    line_items: list[BaseTranLineItem]
    payments: list[BaseTranPayment]
    taxes: list[BaseTranTax]
    subtotal_discounts: list[BaseDiscount]
    receipt_text: str | None = None
    journal_text: str | None = None
    staff: BaseTranStaff | None = None
    status: BaseTranStatus | None = None

    @classmethod
    def of(cls, cart: Cart) -> CartResponse:
        return cls(
            cart_id=cart.cart_id,
            cart_status=cart.cart_status.value,
            tenant_id=cart.tenant_id,
            store_code=cart.store_code,
            store_name=cart.store_name,
            terminal_no=cart.terminal_no,
            transaction_type=cart.transaction_type,
            transaction_no=cart.transaction_no,
            receipt_no=cart.receipt_no,
            total_amount=cart.total_amount,
            subtotal_amount=cart.total_amount,
            total_amount_with_tax=cart.total_amount_with_tax,
            total_quantity=cart.total_quantity,
            total_discount_amount=cart.total_discount_amount,
            deposit_amount=cart.deposit_amount,
            change_amount=cart.change_amount,
            balance_amount=cart.balance_amount,
            stamp_duty_amount=cart.stamp_duty_amount,
            business_date=cart.business_date,
            line_items=[BaseTranLineItem.of(line) for line in cart.line_items],
            payments=[BaseTranPayment.of(p) for p in cart.payments],
            taxes=[BaseTranTax.of(t) for t in cart.taxes],
            subtotal_discounts=[BaseDiscount.of(d) for d in cart.subtotal_discounts],
            receipt_text=cart.receipt_text if cart.receipt_text is not None else "",
            journal_text=cart.journal_text,
            staff=BaseTranStaff.of(cart.staff),
        )
