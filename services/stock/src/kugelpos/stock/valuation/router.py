"""`GET /api/v1/tenants/{tenant_id}/stores/{store_code}/stock/valuation` (fixed segment,
included before the `{item_code}` routes)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from kugelpos.common.envelope import ApiResponse, ok

from ..costs import from_cost_units
from ..dependencies import Reader, ValuationServiceDep
from .schemas import ValuationItemResponse, ValuationResponse

router = APIRouter(
    prefix="/api/v1/tenants/{tenant_id}/stores/{store_code}/stock", tags=["valuation"]
)
StoreCode = Annotated[str, Path(min_length=1, max_length=64)]


@router.get("/valuation", response_model=ApiResponse[ValuationResponse])
async def get_valuation(
    tenant_id: str, store_code: StoreCode, _: Reader, valuations: ValuationServiceDep
) -> ApiResponse[ValuationResponse]:
    valuation = await valuations.now(tenant_id, store_code)
    return ok(
        ValuationResponse(
            tenant_id=tenant_id,
            store_code=store_code,
            as_of=valuation.as_of,
            items=[
                ValuationItemResponse(
                    item_code=i.row.item_code,
                    quantity=i.row.current_quantity,
                    average_cost=i.row.average_cost,
                    value=from_cost_units(i.value_units),
                )
                for i in valuation.items
            ],
            total_value=from_cost_units(valuation.total_units),
        ),
        message="Stock valuation retrieved successfully",
        operation="get_stock_valuation",
    )
