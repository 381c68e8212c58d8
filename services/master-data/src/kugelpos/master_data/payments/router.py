"""Payment endpoints: `/api/v1/tenants/{tenant_id}/payments`."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, status

from kugelpos.common.envelope import ApiResponse, ok
from kugelpos.common.pagination import PageParams

from ..dependencies import PaymentServiceDep, Reader, Writer, list_params
from ..schemas import display_time
from .documents import PaymentDocument
from .schemas import (
    PaymentCreateRequest,
    PaymentDeleteResponse,
    PaymentResponse,
    PaymentUpdateRequest,
)

router = APIRouter(prefix="/api/v1/tenants/{tenant_id}/payments", tags=["payments"])
SORTABLE = frozenset(
    {"payment_code", "description", "limit_amount", "is_active", "created_at", "updated_at"}
)
PaymentCode = Annotated[str, Path(max_length=64)]
Params = Annotated[PageParams, Depends(list_params(SORTABLE, [("payment_code", 1)]))]


def _out(doc: PaymentDocument) -> PaymentResponse:
    return PaymentResponse(
        payment_code=doc.payment_code,
        description=doc.description,
        limit_amount=doc.limit_amount,
        can_refund=doc.can_refund,
        can_deposit_over=doc.can_deposit_over,
        can_change=doc.can_change,
        is_active=doc.is_active,
        entry_datetime=display_time(doc.created_at),
        last_update_datetime=display_time(doc.updated_at),
    )


@router.post("", status_code=status.HTTP_201_CREATED, response_model=ApiResponse[PaymentResponse])
async def create_payment(
    tenant_id: str, body: PaymentCreateRequest, actor: Writer, payments: PaymentServiceDep
) -> ApiResponse[PaymentResponse]:
    doc = await payments.create(actor, tenant_id, body)
    return ok(
        _out(doc),
        code=201,
        message=f"Payment created successfully. payment_code: {doc.payment_code}",
        operation="create_payment",
    )


@router.get("", response_model=ApiResponse[list[PaymentResponse]])
async def get_all_payments(
    tenant_id: str, _: Reader, payments: PaymentServiceDep, params: Params
) -> ApiResponse[list[PaymentResponse]]:
    page = await payments.list(tenant_id, params)
    return ok(
        [_out(d) for d in page.items],
        message="Payments retrieved successfully",
        operation="get_all_payments",
        metadata=page.metadata({"tenant_id": tenant_id}),
    )


@router.get("/{payment_code}", response_model=ApiResponse[PaymentResponse])
async def get_payment(
    tenant_id: str, payment_code: PaymentCode, _: Reader, payments: PaymentServiceDep
) -> ApiResponse[PaymentResponse]:
    doc = await payments.get(tenant_id, payment_code)
    return ok(
        _out(doc),
        message=f"Payment found. payment_code: {payment_code}",
        operation="get_payment",
    )


@router.put("/{payment_code}", response_model=ApiResponse[PaymentResponse])
async def update_payment(
    tenant_id: str,
    payment_code: PaymentCode,
    body: PaymentUpdateRequest,
    actor: Writer,
    payments: PaymentServiceDep,
) -> ApiResponse[PaymentResponse]:
    doc = await payments.update(actor, tenant_id, payment_code, body)
    return ok(
        _out(doc),
        message=f"Payment updated successfully. payment_code: {payment_code}",
        operation="update_payment",
    )


@router.delete("/{payment_code}", response_model=ApiResponse[PaymentDeleteResponse])
async def delete_payment(
    tenant_id: str, payment_code: PaymentCode, _: Writer, payments: PaymentServiceDep
) -> ApiResponse[PaymentDeleteResponse]:
    await payments.delete(tenant_id, payment_code)
    return ok(
        PaymentDeleteResponse(payment_code=payment_code),
        message=f"Payment deleted successfully. payment_code: {payment_code}",
        operation="delete_payment",
    )
