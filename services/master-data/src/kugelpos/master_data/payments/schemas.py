"""API models of payment methods."""

from __future__ import annotations

from kugelpos.common.schemas import ApiModel

from ..schemas import Code, Money, Name, Number, TimestampedResponse


class PaymentUpdateRequest(ApiModel):
    description: Name
    limit_amount: Money
    can_refund: bool
    can_deposit_over: bool
    can_change: bool
    is_active: bool


class PaymentCreateRequest(PaymentUpdateRequest):
    payment_code: Code


class PaymentResponse(TimestampedResponse):
    payment_code: str
    description: str
    limit_amount: Number
    can_refund: bool
    can_deposit_over: bool
    can_change: bool
    is_active: bool


class PaymentDeleteResponse(ApiModel):
    payment_code: str
