"""`GET /api/v1/tenants/{tenant_id}/stores/{store_code}/stock/movements` (fixed segment,
included before the `{item_code}` routes)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from kugelpos.common.days import day_range
from kugelpos.common.envelope import ApiResponse, ok

from ..dependencies import MovementServiceDep, Reader, StockWiringDep
from ..quantities import from_units
from .schemas import DayMovementResponse, KindMovementResponse, MovementsResponse

router = APIRouter(
    prefix="/api/v1/tenants/{tenant_id}/stores/{store_code}/stock", tags=["movements"]
)
StoreCode = Annotated[str, Path(min_length=1, max_length=64)]
Day = Annotated[str, Query(min_length=1, max_length=10, description="YYYY-MM-DD, local day")]


@router.get("/movements", response_model=ApiResponse[MovementsResponse])
async def get_movements(
    tenant_id: str,
    store_code: StoreCode,
    _: Reader,
    movements: MovementServiceDep,
    wiring: StockWiringDep,
    from_: Annotated[Day, Query(alias="from")],
    to: Day,
) -> ApiResponse[MovementsResponse]:
    first, last = day_range(from_, to)
    days = await movements.by_day(tenant_id, store_code, first, last)
    return ok(
        MovementsResponse(
            tenant_id=tenant_id,
            store_code=store_code,
            timezone=wiring.settings.timezone,
            from_date=first,
            to_date=last,
            days=[
                DayMovementResponse(
                    date=d.day,
                    kinds=[
                        KindMovementResponse(kind=k, quantity=from_units(t.units), rows=t.rows)
                        for k, t in d.kinds.items()
                    ],
                )
                for d in days
            ],
        ),
        message="Stock movements retrieved successfully",
        operation="get_stock_movements",
    )
