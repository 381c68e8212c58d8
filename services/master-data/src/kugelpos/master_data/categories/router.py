"""Category endpoints: `/api/v1/tenants/{tenant_id}/categories`."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, status

from kugelpos.common.envelope import ApiResponse, ok
from kugelpos.common.pagination import PageParams

from ..dependencies import CategoryServiceDep, Reader, Writer, list_params
from ..schemas import display_time
from .documents import CategoryDocument
from .schemas import (
    CategoryMasterCreateRequest,
    CategoryMasterDeleteResponse,
    CategoryMasterResponse,
    CategoryMasterUpdateRequest,
)

router = APIRouter(prefix="/api/v1/tenants/{tenant_id}/categories", tags=["categories"])
SORTABLE = frozenset(
    {"category_code", "description", "description_short", "tax_code", "created_at", "updated_at"}
)
CategoryCode = Annotated[str, Path(max_length=64)]
Params = Annotated[PageParams, Depends(list_params(SORTABLE, [("category_code", 1)]))]


def _out(doc: CategoryDocument) -> CategoryMasterResponse:
    return CategoryMasterResponse(
        category_code=doc.category_code,
        description=doc.description,
        description_short=doc.description_short,
        tax_code=doc.tax_code,
        entry_datetime=display_time(doc.created_at),
        last_update_datetime=display_time(doc.updated_at),
    )


@router.post(
    "", status_code=status.HTTP_201_CREATED, response_model=ApiResponse[CategoryMasterResponse]
)
async def create_category(
    tenant_id: str, body: CategoryMasterCreateRequest, actor: Writer, categories: CategoryServiceDep
) -> ApiResponse[CategoryMasterResponse]:
    doc = await categories.create(actor, tenant_id, body)
    return ok(
        _out(doc),
        code=201,
        message=f"Category created successfully. category_code: {doc.category_code}",
        operation="create_category",
    )


@router.get("", response_model=ApiResponse[list[CategoryMasterResponse]])
async def get_categories(
    tenant_id: str, _: Reader, categories: CategoryServiceDep, params: Params
) -> ApiResponse[list[CategoryMasterResponse]]:
    page = await categories.list(tenant_id, params)
    return ok(
        [_out(d) for d in page.items],
        message="Categories retrieved successfully",
        operation="get_categories",
        metadata=page.metadata({"tenant_id": tenant_id}),
    )


@router.get("/{category_code}", response_model=ApiResponse[CategoryMasterResponse])
async def get_category(
    tenant_id: str, category_code: CategoryCode, _: Reader, categories: CategoryServiceDep
) -> ApiResponse[CategoryMasterResponse]:
    doc = await categories.get(tenant_id, category_code)
    return ok(
        _out(doc),
        message=f"Category found. category_code: {category_code}",
        operation="get_category",
    )


@router.put("/{category_code}", response_model=ApiResponse[CategoryMasterResponse])
async def update_category(
    tenant_id: str,
    category_code: CategoryCode,
    body: CategoryMasterUpdateRequest,
    actor: Writer,
    categories: CategoryServiceDep,
) -> ApiResponse[CategoryMasterResponse]:
    doc = await categories.update(actor, tenant_id, category_code, body)
    return ok(
        _out(doc),
        message=f"Category updated successfully. category_code: {category_code}",
        operation="update_category",
    )


@router.delete("/{category_code}", response_model=ApiResponse[CategoryMasterDeleteResponse])
async def delete_category(
    tenant_id: str, category_code: CategoryCode, _: Writer, categories: CategoryServiceDep
) -> ApiResponse[CategoryMasterDeleteResponse]:
    await categories.delete(tenant_id, category_code)
    return ok(
        CategoryMasterDeleteResponse(category_code=category_code),
        message=f"Category deleted successfully. category_code: {category_code}",
        operation="delete_category",
    )
