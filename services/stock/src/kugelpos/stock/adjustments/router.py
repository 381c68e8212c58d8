"""`POST /api/v1/tenants/{tenant_id}/stores/{store_code}/stock/adjustments` (back office)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, status

from kugelpos.common.envelope import ApiResponse, ok

from ..dependencies import AdjustmentServiceDep, AlertServiceDep, BackOffice
from ..stocks.router import update_out
from .schemas import AdjustmentRequest, AdjustmentResponse
from .service import AdjustmentLine

router = APIRouter(
    prefix="/api/v1/tenants/{tenant_id}/stores/{store_code}/stock", tags=["adjustments"]
)
StoreCode = Annotated[str, Path(min_length=1, max_length=64)]


@router.post(
    "/adjustments",
    status_code=status.HTTP_201_CREATED,
    response_model=ApiResponse[AdjustmentResponse],
)
async def create_adjustment(
    tenant_id: str,
    store_code: StoreCode,
    body: AdjustmentRequest,
    caller: BackOffice,
    adjustments: AdjustmentServiceDep,
    alerts: AlertServiceDep,
) -> ApiResponse[AdjustmentResponse]:
    done = await adjustments.apply(
        tenant_id,
        store_code,
        [AdjustmentLine(x.item_code, x.quantity_change, x.reason) for x in body.lines],
        operator_id=body.operator_id,
        actor=caller.subject,
    )
    # Each item's row as the batch left it (its last line), judged once.
    rows = {a.row.item_code: a.row for a in done.applied}
    alerts.evaluate_later(list(rows.values()))
    return ok(
        AdjustmentResponse(
            adjustment_id=done.adjustment_id,
            store_code=store_code,
            lines=[update_out(a.history) for a in done.applied],
        ),
        code=201,
        message="Stock adjusted successfully",
        operation="create_adjustment",
    )
