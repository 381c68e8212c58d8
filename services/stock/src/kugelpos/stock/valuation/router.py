"""`GET /api/v1/tenants/{tenant_id}/stores/{store_code}/stock/valuation[?snapshotId=]` (fixed
segment, included before the `{item_code}` routes)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from kugelpos.common.envelope import ApiResponse, ok

from ..costs import from_cost_units
from ..dependencies import Reader, ValuationServiceDep
from ..quantities import from_units
from .schemas import ValuationItemResponse, ValuationResponse

router = APIRouter(
    prefix="/api/v1/tenants/{tenant_id}/stores/{store_code}/stock", tags=["valuation"]
)
StoreCode = Annotated[str, Path(min_length=1, max_length=64)]
SnapshotId = Annotated[str | None, Query(alias="snapshotId", min_length=1, max_length=64)]


@router.get("/valuation", response_model=ApiResponse[ValuationResponse])
async def get_valuation(
    tenant_id: str,
    store_code: StoreCode,
    _: Reader,
    valuations: ValuationServiceDep,
    snapshot_id: SnapshotId = None,
) -> ApiResponse[ValuationResponse]:
    if snapshot_id is None:
        valuation = await valuations.now(tenant_id, store_code)
    else:
        valuation = await valuations.of_snapshot(tenant_id, store_code, snapshot_id)
    return ok(
        ValuationResponse(
            tenant_id=tenant_id,
            store_code=store_code,
            as_of=valuation.as_of,
            snapshot_id=snapshot_id,
            costs_recorded=valuation.costs_recorded,
            items=[
                ValuationItemResponse(
                    item_code=i.item_code,
                    quantity=from_units(i.quantity_units),
                    average_cost=from_cost_units(i.average_cost_units),
                    value=from_cost_units(i.value_units),
                )
                for i in valuation.items
            ],
            total_value=from_cost_units(valuation.total_units),
        ),
        message="Stock valuation retrieved successfully",
        operation="get_stock_valuation",
    )
