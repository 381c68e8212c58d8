"""Receipts: `POST|GET /api/v1/tenants/{tenant_id}/stores/{store_code}/stock/receipts` and
`GET …/receipts/{receipt_id}` (fixed segments, included before the `{item_code}` routes)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, status

from kugelpos.common.envelope import ApiResponse, ok
from kugelpos.common.pagination import PageParams

from ..costs import from_cost_units, stock_value_units
from ..dependencies import AlertServiceDep, BackOffice, Reader, ReceiptServiceDep
from ..quantities import from_units
from ..schemas import PaginatedResult, paged, stock_page_params
from .documents import ReceiptDocument
from .schemas import ReceiptLineResponse, ReceiptRequest, ReceiptResponse
from .service import ReceiptLine

router = APIRouter(
    prefix="/api/v1/tenants/{tenant_id}/stores/{store_code}/stock", tags=["receipts"]
)
StoreCode = Annotated[str, Path(min_length=1, max_length=64)]
ReceiptId = Annotated[str, Path(min_length=1, max_length=64)]
Params = Annotated[PageParams, Depends(stock_page_params)]


def receipt_out(doc: ReceiptDocument) -> ReceiptResponse:
    costs = [stock_value_units(x.quantity_units, x.unit_cost_units) for x in doc.lines]
    return ReceiptResponse(
        receipt_id=doc.receipt_id,
        tenant_id=doc.tenant_id,
        store_code=doc.store_code,
        supplier=doc.supplier,
        reference=doc.reference,
        operator_id=doc.operator_id,
        received_at=doc.received_at,
        total_cost=from_cost_units(sum(costs)),
        lines=[
            ReceiptLineResponse(
                item_code=x.item_code,
                quantity=from_units(x.quantity_units),
                unit_cost=from_cost_units(x.unit_cost_units),
                line_cost=from_cost_units(cost),
                before_quantity=from_units(x.before_units),
                after_quantity=from_units(x.after_units),
                average_cost=from_cost_units(x.average_cost_units),
            )
            for x, cost in zip(doc.lines, costs, strict=True)
        ],
    )


@router.post(
    "/receipts", status_code=status.HTTP_201_CREATED, response_model=ApiResponse[ReceiptResponse]
)
async def create_receipt(
    tenant_id: str,
    store_code: StoreCode,
    body: ReceiptRequest,
    caller: BackOffice,
    receipts: ReceiptServiceDep,
    alerts: AlertServiceDep,
) -> ApiResponse[ReceiptResponse]:
    received = await receipts.receive(
        tenant_id,
        store_code,
        supplier=body.supplier,
        reference=body.reference,
        lines=[ReceiptLine(x.item_code, x.quantity, x.unit_cost) for x in body.lines],
        operator_id=body.operator_id,
        actor=caller.subject,
    )
    alerts.evaluate_later(received.rows)
    return ok(
        receipt_out(received.receipt),
        code=201,
        message="Receipt received successfully",
        operation="create_receipt",
    )


@router.get("/receipts", response_model=ApiResponse[PaginatedResult[ReceiptResponse]])
async def list_receipts(
    tenant_id: str, store_code: StoreCode, _: Reader, receipts: ReceiptServiceDep, params: Params
) -> ApiResponse[PaginatedResult[ReceiptResponse]]:
    page = await receipts.list(tenant_id, store_code, params)
    return ok(
        paged(
            [receipt_out(d) for d in page.items],
            total=page.total,
            page=params.page,
            limit=params.limit,
        ),
        message="Receipts retrieved successfully",
        operation="list_receipts",
    )


@router.get("/receipts/{receipt_id}", response_model=ApiResponse[ReceiptResponse])
async def get_receipt(
    tenant_id: str,
    store_code: StoreCode,
    receipt_id: ReceiptId,
    _: Reader,
    receipts: ReceiptServiceDep,
) -> ApiResponse[ReceiptResponse]:
    doc = await receipts.get(tenant_id, store_code, receipt_id)
    return ok(receipt_out(doc), message="Receipt retrieved successfully", operation="get_receipt")
