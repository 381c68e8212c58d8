"""API models of transactions (v1 contract `Tran`) and of the delivery-status endpoint."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Discriminator, Field, Tag, model_validator

from kugelpos.common.schemas import INT32_MAX, ApiModel

from ..carts.schemas import (
    BaseDiscount,
    BaseTranLineItem,
    BaseTranPayment,
    BaseTranStaff,
    BaseTranStatus,
    BaseTranTax,
    Code,
    InNumber,
    Number,
    PaymentRequest,
)
from ..pricing.money import ZERO, to_decimal
from .documents import TranlogDocument, TransactionStatusDocument


def _d(value: Any):
    return to_decimal(value if value is not None else 0)


# The transaction response uses the contract's own line, payment, tax and discount schemas
# (the ones a cart answers with); these build them from a stored tranlog.


def discount_of(d: dict[str, Any]) -> BaseDiscount:
    return BaseDiscount(
        discount_type=d.get("discount_type", ""),
        discount_value=_d(d.get("discount_value")),
        discount_amount=_d(d.get("discount_amount")),
        discount_detail=d.get("detail"),
        promotion_code=d.get("promotion_code"),
        promotion_type=d.get("promotion_type"),
    )


class TranLineItem(BaseTranLineItem):
    """A transaction's line; on a sale, beside v1: the units its returns took back."""

    returned_quantity: int = 0


class ReturnRef(ApiModel):
    """One return of a sale (it may be recorded at another terminal of the store)."""

    terminal_no: int
    transaction_no: int


def line_of(line: dict[str, Any], returned: int = 0) -> TranLineItem:
    return TranLineItem(
        returned_quantity=returned,
        line_no=line["line_no"],
        item_code=line["item_code"],
        item_name=line.get("description") or "",
        category_code=line.get("category_code"),
        unit_price=_d(line.get("unit_price")),
        unit_price_original=_d(line.get("unit_price_original")),
        is_unit_price_changed=bool(line.get("is_unit_price_changed")),
        quantity=line.get("quantity", 0),
        amount=_d(line.get("amount")),
        discounts=[discount_of(d) for d in line.get("discounts") or []],
        image_urls=[],
        is_cancelled=bool(line.get("is_cancelled")),
        is_stored_value=bool(line.get("is_stored_value")),
        card_no=line.get("card_no"),
    )


def payment_of(p: dict[str, Any]) -> BaseTranPayment:
    return BaseTranPayment(
        payment_no=p["payment_no"],
        payment_code=p["payment_code"],
        payment_name=p.get("description") or "",
        payment_amount=_d(p.get("amount")),
        payment_detail=p.get("detail"),
        deposit_amount=_d(p.get("deposit_amount")),
        card_no=p.get("card_no"),
        hold_id=p.get("hold_id"),
    )


def tax_of(t: dict[str, Any]) -> BaseTranTax:
    return BaseTranTax(
        tax_no=t["tax_no"],
        tax_code=t["tax_code"],
        tax_type=t["tax_type"],
        tax_name=t.get("tax_name") or "",
        tax_amount=_d(t.get("tax_amount")),
        target_amount=_d(t.get("target_amount")),
        target_quantity=t.get("target_quantity", 0),
    )


class TranResponse(ApiModel):
    tenant_id: str
    store_code: str
    store_name: str | None = None
    terminal_no: int
    transaction_no: int
    transaction_type: int
    receipt_no: int
    business_date: str | None = None
    generate_date_time: str | None = None
    # v1 compatibility (spec §3.6 / §18.15): totalAmount repeats totalAmountWithTax.
    total_amount: Number
    total_amount_with_tax: Number
    total_quantity: int
    total_discount_amount: Number
    deposit_amount: Number
    change_amount: Number
    stamp_duty_amount: Number | None = None
    line_items: list[TranLineItem]
    payments: list[BaseTranPayment]
    taxes: list[BaseTranTax]
    subtotal_discounts: list[BaseDiscount]
    receipt_text: str | None = None
    journal_text: str | None = None
    staff: BaseTranStaff | None = None
    status: BaseTranStatus
    # Beside v1 (issue 25): the sale's live returns; a return's sale is in `origin`.
    returns: list[ReturnRef] = Field(default_factory=list)
    origin: ReturnRef | None = None
    # A return without a receipt (issue 25).
    blind: bool = False
    # A sale made offline and taken back later (issue 27).
    offline: bool = False

    @classmethod
    def of(
        cls, tran: TranlogDocument, status: TransactionStatusDocument | None = None
    ) -> TranResponse:
        sales = tran.sales
        staff = tran.staff or None
        returned = status.returned() if status else {}
        origin = tran.origin or {}
        return cls(
            tenant_id=tran.tenant_id,
            store_code=tran.store_code,
            store_name=tran.store_name,
            terminal_no=tran.terminal_no,
            transaction_no=tran.transaction_no,
            transaction_type=tran.transaction_type,
            receipt_no=tran.receipt_no,
            business_date=tran.business_date,
            generate_date_time=tran.generate_date_time,
            total_amount=_d(sales.get("total_amount_with_tax")),
            total_amount_with_tax=_d(sales.get("total_amount_with_tax")),
            total_quantity=sales.get("total_quantity", 0),
            total_discount_amount=_d(sales.get("total_discount_amount")),
            deposit_amount=sum((_d(p.get("deposit_amount")) for p in tran.payments), ZERO),
            change_amount=_d(sales.get("change_amount")),
            stamp_duty_amount=_d(sales.get("stamp_duty_amount")),
            line_items=[
                line_of(line, returned.get(int(line["line_no"]), 0)) for line in tran.line_items
            ],
            payments=[payment_of(p) for p in tran.payments],
            taxes=[tax_of(t) for t in tran.taxes],
            subtotal_discounts=[discount_of(d) for d in tran.subtotal_discounts],
            receipt_text=tran.receipt_text,
            journal_text=tran.journal_text,
            staff=BaseTranStaff(id=str(staff.get("id")), name=str(staff.get("name") or ""))
            if staff and staff.get("id")
            else None,
            status=BaseTranStatus(
                is_cancelled=bool(sales.get("is_cancelled")),
                is_voided=bool(status and status.is_voided),
                is_refunded=bool(status and status.is_refunded),
            ),
            returns=[ReturnRef.model_validate(r) for r in (status.returns if status else [])],
            origin=ReturnRef(
                terminal_no=origin["terminal_no"], transaction_no=origin["transaction_no"]
            )
            if origin.get("transaction_no") is not None
            else None,
            blind=tran.blind,
            offline=tran.offline,
        )


class IssuedCredit(ApiModel):
    """A store-credit card a return refunded onto (issue 26): its whole number is shown here
    once, for the customer's receipt; everywhere after, masked."""

    card_no: str
    amount: Number
    is_new: bool


class ReturnResponse(TranResponse):
    """A return's transaction, and the store credit it refunded onto, if any."""

    issued_credit: list[IssuedCredit] = Field(default_factory=list)


class SessionSummaryResponse(ApiModel):
    """Beside the v1 contract: what the terminal service closes a session with."""

    business_date: str
    open_counter: int
    transaction_count: int
    last_transaction_no: int | None = None
    cash_sales_amount: Number


# ---- partial returns (issue 25) ---------------------------------------------------------------


class ReturnLineRequest(ApiModel):
    line_no: int = Field(ge=1, le=INT32_MAX)
    quantity: int = Field(ge=1, le=INT32_MAX)


class ApprovalRequest(ApiModel):
    staff_id: Code
    pin: str = Field(min_length=1, max_length=64)


class ReturnQuoteRequest(ApiModel):
    """Which units come back (`lines` omitted: everything not returned yet), and why."""

    lines: list[ReturnLineRequest] | None = Field(default=None, min_length=1, max_length=1000)
    reason_code: Code | None = None
    approval: ApprovalRequest | None = None

    @model_validator(mode="after")
    def _one_entry_per_line(self) -> ReturnQuoteRequest:
        numbers = [line.line_no for line in self.lines or ()]
        if len(numbers) != len(set(numbers)):
            raise ValueError("each lineNo may appear once")
        return self

    def quantities(self) -> dict[int, int] | None:
        if self.lines is None:
            return None
        return {line.line_no: line.quantity for line in self.lines}


class ReturnRequest(ReturnQuoteRequest):
    """The object form of `POST .../return` (v1 sends only the payments, as an array)."""

    payments: list[PaymentRequest] = Field(min_length=1, max_length=100)


class ReturnQuoteLine(ApiModel):
    line_no: int
    quantity: int
    # What the customer gets back for the line, its part of the external tax included.
    amount: Number


class ReturnQuoteResponse(ApiModel):
    lines: list[ReturnQuoteLine]
    total_amount: Number
    tax_amount: Number
    total_amount_with_tax: Number
    # Whether the return will need `approval`, and why (`blind`, `reason_requires_approval`),
    # as far as is known without payments: the return's tenders may add `other_tender`.
    approval_required: bool = False
    approval_reasons: list[str] = Field(default_factory=list)


def _return_form(value: Any) -> str:
    return "object" if isinstance(value, dict | ReturnRequest) else "payments"


# `POST .../return`: v1's array of refund payments, or the object form. Tagged, so that a bad
# body is reported against the form it was sent in (a fraction of a yen stays v1's 400).
type ReturnBody = Annotated[
    Annotated[list[PaymentRequest], Tag("payments")] | Annotated[ReturnRequest, Tag("object")],
    Discriminator(_return_form),
]


# ---- blind returns (issue 25) -----------------------------------------------------------------


class BlindReturnLineRequest(ApiModel):
    item_code: Code
    quantity: int = Field(ge=1, le=INT32_MAX)
    # At most the item's current store price (0 or omitted: that price).
    unit_price: InNumber | None = None


class BlindReturnQuoteRequest(ApiModel):
    lines: list[BlindReturnLineRequest] = Field(min_length=1, max_length=100)
    reason_code: Code | None = None
    approval: ApprovalRequest | None = None


class BlindReturnRequest(BlindReturnQuoteRequest):
    payments: list[PaymentRequest] = Field(min_length=1, max_length=100)


class BlindReturnQuoteLine(ApiModel):
    item_code: str
    quantity: int
    unit_price: Number
    # The line's amount (internal tax included, external not).
    amount: Number
    tax_code: str


class BlindReturnQuoteResponse(ApiModel):
    lines: list[BlindReturnQuoteLine]
    total_amount: Number
    tax_amount: Number
    total_amount_with_tax: Number
    # Always required (`blind`), with `reason_requires_approval` when the reason says so.
    approval_required: bool = True
    approval_reasons: list[str] = Field(default_factory=list)
