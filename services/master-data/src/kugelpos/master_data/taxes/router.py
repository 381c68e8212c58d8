"""Tax endpoints: `/api/v1/tenants/{tenant_id}/taxes` (read-only)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path

from kugelpos.common.envelope import ApiResponse, ok
from kugelpos.common.pagination import PageParams

from ..dependencies import Reader, TaxServiceDep, list_params
from .schemas import TaxMasterResponse

router = APIRouter(prefix="/api/v1/tenants/{tenant_id}/taxes", tags=["taxes"])
SORTABLE = frozenset({"tax_code", "tax_type", "tax_name", "rate", "round_digit"})
TaxCode = Annotated[str, Path(max_length=64)]
# No default sort: the configured order is kept.
Params = Annotated[PageParams, Depends(list_params(SORTABLE, []))]


@router.get("", response_model=ApiResponse[list[TaxMasterResponse]])
async def get_taxes(
    tenant_id: str, _: Reader, taxes: TaxServiceDep, params: Params
) -> ApiResponse[list[TaxMasterResponse]]:
    page = taxes.list(tenant_id, params)
    return ok(
        [TaxMasterResponse.of(e) for e in page.items],
        message="Taxes retrieved successfully",
        operation="get_taxes",
        metadata=page.metadata({"tenant_id": tenant_id}),
    )


@router.get("/{tax_code}", response_model=ApiResponse[TaxMasterResponse])
async def get_tax(
    tenant_id: str, tax_code: TaxCode, _: Reader, taxes: TaxServiceDep
) -> ApiResponse[TaxMasterResponse]:
    entry = taxes.get(tenant_id, tax_code)
    return ok(
        TaxMasterResponse.of(entry),
        message=f"Tax found. tax_code: {tax_code}",
        operation="get_tax",
    )
