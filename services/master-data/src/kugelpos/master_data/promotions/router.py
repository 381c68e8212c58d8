"""Promotion endpoints: `/api/v1/tenants/{tenant_id}/promotions` (not in the v1 contract's
OpenAPI, but used by clients; camelCase query names as v1 has them)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, status

from kugelpos.common.envelope import ApiResponse, ok
from kugelpos.common.pagination import MAX_LIMIT, PageParams, parse_sort

from ..dependencies import PromotionServiceDep, Reader, Writer, list_params
from ..schemas import display_time
from .documents import PromotionDocument
from .schemas import (
    PromotionCreateRequest,
    PromotionDeleteResponse,
    PromotionDetailModel,
    PromotionResponse,
    PromotionUpdateRequest,
)
from .service import PromotionService

router = APIRouter(prefix="/api/v1/tenants/{tenant_id}/promotions", tags=["promotions"])
SORTABLE = frozenset(
    {
        "promotion_code",
        "promotion_type",
        "name",
        "start_datetime",
        "end_datetime",
        "is_active",
        "created_at",
        "updated_at",
    }
)
PromotionCode = Annotated[str, Path(max_length=64)]
TypeQuery = Annotated[str | None, Query(alias="promotionType", max_length=64)]


async def promotion_params(
    limit: Annotated[int, Query(ge=0, le=MAX_LIMIT)] = 20,
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
    sort: Annotated[str | None, Query(max_length=256)] = None,
) -> PageParams:
    check = list_params(SORTABLE, [("promotion_code", 1)])
    return await check(PageParams(limit=limit, page=page, sort=parse_sort(sort)))


def _out(doc: PromotionDocument, service: PromotionService) -> PromotionResponse:
    detail = None
    if doc.detail is not None:
        detail = PromotionDetailModel.model_construct(**doc.detail.model_dump())
    return PromotionResponse(
        promotion_code=doc.promotion_code,
        promotion_type=doc.promotion_type,
        name=doc.name,
        description=doc.description,
        start_datetime=service.local(doc.start_datetime),
        end_datetime=service.local(doc.end_datetime),
        is_active=doc.is_active,
        detail=detail,
        entry_datetime=display_time(doc.created_at),
        last_update_datetime=display_time(doc.updated_at),
    )


@router.post("", status_code=status.HTTP_201_CREATED, response_model=ApiResponse[PromotionResponse])
async def create_promotion(
    tenant_id: str, body: PromotionCreateRequest, actor: Writer, promotions: PromotionServiceDep
) -> ApiResponse[PromotionResponse]:
    doc = await promotions.create(actor, tenant_id, body)
    return ok(
        _out(doc, promotions),
        code=201,
        message=f"Promotion created successfully. promotion_code: {doc.promotion_code}",
        operation="create_promotion",
    )


@router.get("", response_model=ApiResponse[list[PromotionResponse]])
async def get_promotions(
    tenant_id: str,
    _: Reader,
    promotions: PromotionServiceDep,
    params: Annotated[PageParams, Depends(promotion_params)],
    promotion_type: TypeQuery = None,
    is_active: Annotated[bool | None, Query(alias="isActive")] = None,
) -> ApiResponse[list[PromotionResponse]]:
    filter_ = promotions.list_filter(tenant_id, promotion_type, is_active)
    page = await promotions.list(filter_, params)
    return ok(
        [_out(d, promotions) for d in page.items],
        message="Promotions retrieved successfully",
        operation="get_promotions",
        metadata=page.metadata(filter_),
    )


@router.get("/active", response_model=ApiResponse[list[PromotionResponse]])
async def get_active_promotions(
    tenant_id: str,
    _: Reader,
    promotions: PromotionServiceDep,
    store_code: Annotated[str | None, Query(alias="storeCode", max_length=64)] = None,
    category_code: Annotated[str | None, Query(alias="categoryCode", max_length=64)] = None,
    promotion_type: TypeQuery = None,
) -> ApiResponse[list[PromotionResponse]]:
    found = await promotions.active(
        tenant_id,
        store_code=store_code,
        category_code=category_code,
        promotion_type=promotion_type,
    )
    return ok(
        [_out(d, promotions) for d in found],
        message="Active promotions retrieved successfully",
        operation="get_active_promotions",
    )


@router.get("/{promotion_code}", response_model=ApiResponse[PromotionResponse])
async def get_promotion(
    tenant_id: str, promotion_code: PromotionCode, _: Reader, promotions: PromotionServiceDep
) -> ApiResponse[PromotionResponse]:
    doc = await promotions.get(tenant_id, promotion_code)
    return ok(
        _out(doc, promotions),
        message=f"Promotion found. promotion_code: {promotion_code}",
        operation="get_promotion",
    )


@router.put("/{promotion_code}", response_model=ApiResponse[PromotionResponse])
async def update_promotion(
    tenant_id: str,
    promotion_code: PromotionCode,
    body: PromotionUpdateRequest,
    actor: Writer,
    promotions: PromotionServiceDep,
) -> ApiResponse[PromotionResponse]:
    doc = await promotions.update(actor, tenant_id, promotion_code, body)
    return ok(
        _out(doc, promotions),
        message=f"Promotion updated successfully. promotion_code: {promotion_code}",
        operation="update_promotion",
    )


@router.delete("/{promotion_code}", response_model=ApiResponse[PromotionDeleteResponse])
async def delete_promotion(
    tenant_id: str, promotion_code: PromotionCode, actor: Writer, promotions: PromotionServiceDep
) -> ApiResponse[PromotionDeleteResponse]:
    await promotions.delete(actor, tenant_id, promotion_code)
    return ok(
        PromotionDeleteResponse(promotion_code=promotion_code),
        message=f"Promotion deleted successfully. promotion_code: {promotion_code}",
        operation="delete_promotion",
    )
