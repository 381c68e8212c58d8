"""API models of offline selling: a block of numbers, an offline sale (the camelCase form of
the cart's own `Tran`, plus `offlineId`, `openCounter` and optional detail the stored log
keeps), the batch and its per-sale answer, rejections and discrepancies."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, StringConstraints

from kugelpos.common.offline_numbers import NumberBlock, NumberBlockUse
from kugelpos.common.schemas import INT32_MAX, INT64_MAX, ApiModel

from ..carts.schemas import Code, InNumber, Number
from ..pricing.money import ZERO
from .documents import OfflineDiscrepancyDocument, OfflineRejectionDocument

OfflineId = Annotated[str, StringConstraints(min_length=1, max_length=128)]
ShortText = Annotated[str, StringConstraints(max_length=200)]
BusinessDate = Annotated[str, StringConstraints(pattern=r"^\d{8}$")]


# ---- numbers -----------------------------------------------------------------------------------


class BlockRequest(ApiModel):
    """`size` is checked by the service (1..1,000: a 400 envelope, not a 422)."""

    size: int
    by: Annotated[str, StringConstraints(max_length=200)] | None = None


class BlockResponse(NumberBlock):
    terminal_id: str


class BlockUsage(NumberBlockUse):
    terminal_id: str


# ---- an offline sale -------------------------------------------------------------------------


class OfflineDiscount(ApiModel):
    seq_no: int = 0
    discount_type: Literal["DiscountAmount", "DiscountPercentage"]
    discount_value: InNumber
    discount_amount: InNumber
    discount_detail: ShortText | None = None
    promotion_code: Code | None = None
    promotion_type: Code | None = None


class OfflineLine(ApiModel):
    line_no: Annotated[int, Field(ge=1, le=10_000)]
    item_code: Code
    item_name: ShortText = ""
    category_code: Code | None = None
    # Not in v1's `Tran` line: taken from the item's master when absent.
    tax_code: Code | None = None
    unit_price: InNumber
    unit_price_original: InNumber | None = None
    is_unit_price_changed: bool = False
    quantity: Annotated[int, Field(ge=1, le=99_999)]
    amount: InNumber
    discounts: list[OfflineDiscount] = Field(default_factory=list, max_length=50)
    # This line's shares of the subtotal discounts (the published log's `discounts_allocated`);
    # when absent, allocated as the cart allocates them.
    discounts_allocated: list[OfflineDiscount] | None = Field(default=None, max_length=50)
    is_discount_restricted: bool = False
    is_cancelled: bool = False
    # A gift card / store-credit load (the feed's item `isStoredValue`): refused offline.
    is_stored_value: bool = False


class OfflinePayment(ApiModel):
    payment_no: Annotated[int, Field(ge=1, le=100)]
    payment_code: Code
    payment_name: ShortText = ""
    payment_amount: InNumber
    deposit_amount: InNumber | None = None
    payment_detail: ShortText | None = None


class OfflineTax(ApiModel):
    tax_no: int
    tax_code: Code
    tax_type: str
    tax_name: ShortText = ""
    tax_amount: InNumber
    target_amount: InNumber
    target_quantity: int


class OfflineStaff(ApiModel):
    id: Code
    name: ShortText = ""


def _instant(value: str) -> str:
    """An ISO 8601 instant with its offset (the till's clock when the sale ended): kept as
    the till sent it, but it must say when, anywhere (prices in force then are looked up)."""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError("generateDateTime is not an ISO 8601 date-time") from None
    if moment.tzinfo is None:
        raise ValueError("generateDateTime needs its UTC offset (e.g. +09:00 or Z)")
    return value


Instant = Annotated[str, StringConstraints(min_length=10, max_length=40), AfterValidator(_instant)]


class OfflineSale(ApiModel):
    offline_id: OfflineId
    transaction_no: Annotated[int, Field(ge=1, le=INT64_MAX)]
    receipt_no: Annotated[int, Field(ge=1, le=INT64_MAX)]
    transaction_type: Literal[101] = 101
    business_date: BusinessDate
    open_counter: Annotated[int, Field(ge=1, le=INT32_MAX)]
    generate_date_time: Instant
    # v1 repeats totalAmountWithTax in totalAmount; both must say the same.
    total_amount: InNumber
    total_amount_with_tax: InNumber
    tax_amount: InNumber | None = None
    total_quantity: int
    total_discount_amount: InNumber = ZERO
    deposit_amount: InNumber
    change_amount: InNumber = ZERO
    line_items: list[OfflineLine] = Field(min_length=1, max_length=1_000)
    payments: list[OfflinePayment] = Field(min_length=1, max_length=100)
    taxes: list[OfflineTax] = Field(default_factory=list, max_length=100)
    subtotal_discounts: list[OfflineDiscount] = Field(default_factory=list, max_length=50)
    staff: OfflineStaff | None = None


class OfflineBatch(ApiModel):
    """Items are validated one by one by the service: a malformed sale is rejected with a
    reason, the others are still taken."""

    transactions: list[dict[str, Any]]


class Reason(ApiModel):
    code: str
    message: str


class OfflineResult(ApiModel):
    offline_id: str | None
    status: Literal["accepted", "duplicate", "rejected"]
    transaction_no: int | None = None
    reason: Reason | None = None


class OfflineRejection(ApiModel):
    terminal_no: int
    offline_id: str | None
    transaction_no: int | None
    receipt_no: int | None
    reason: Reason  # the latest refusal's
    rejected_at: str  # the latest refusal
    first_rejected_at: str
    attempts: int

    @classmethod
    def of(cls, r: OfflineRejectionDocument) -> OfflineRejection:
        return cls(
            terminal_no=r.terminal_no,
            offline_id=r.offline_id,
            transaction_no=r.transaction_no,
            receipt_no=r.receipt_no,
            reason=Reason(code=r.code, message=r.message),
            rejected_at=(r.updated_at or r.created_at).isoformat(),
            first_rejected_at=r.created_at.isoformat(),
            attempts=r.attempts,
        )


class OfflineDiscrepancy(ApiModel):
    terminal_no: int
    transaction_no: int
    offline_id: str
    line_no: int
    item_code: str
    sold_price: Number
    master_price: Number | None
    at: str
    recorded_at: str

    @classmethod
    def of(cls, d: OfflineDiscrepancyDocument) -> OfflineDiscrepancy:
        return cls(
            terminal_no=d.terminal_no,
            transaction_no=d.transaction_no,
            offline_id=d.offline_id,
            line_no=d.line_no,
            item_code=d.item_code,
            sold_price=d.sold_price,
            master_price=d.master_price,
            at=d.at,
            recorded_at=d.created_at.isoformat(),
        )
