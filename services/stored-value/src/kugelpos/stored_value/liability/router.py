"""`GET /api/v1/tenants/{tenant_id}/liability?from=YYYY-MM-DD&to=YYYY-MM-DD[&storeCode=]`: what
the tenant owes its card holders per day and store (at most 92 days), for the back office."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from kugelpos.common.days import day_range
from kugelpos.common.envelope import ApiResponse, ok

from ..dependencies import BackOffice, LiabilityServiceDep, StoredValueWiringDep
from .schemas import LiabilityResponse

router = APIRouter(prefix="/api/v1/tenants/{tenant_id}", tags=["liability"])
Day = Annotated[str, Query(min_length=10, max_length=10, description="YYYY-MM-DD")]


@router.get("/liability", response_model=ApiResponse[LiabilityResponse])
async def liability(
    tenant_id: str,
    _: BackOffice,
    service: LiabilityServiceDep,
    wiring: StoredValueWiringDep,
    from_: Annotated[str, Query(alias="from", min_length=10, max_length=10)],
    to: Day,
    store_code: Annotated[str | None, Query(alias="storeCode", max_length=64)] = None,
) -> ApiResponse[LiabilityResponse]:
    first, last = day_range(from_, to)
    report = await service.report(tenant_id, first, last, store_code)
    return ok(
        LiabilityResponse.of(report, wiring.settings.timezone),
        message="Liability retrieved successfully",
        operation="liability",
    )
