"""Common item endpoints: `/api/v1/tenants/{tenant_id}/items`."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, status

from kugelpos.common.envelope import ApiResponse, ok
from kugelpos.common.pagination import PageParams

from ..dependencies import ItemLookup, ItemServiceDep, Reader, Writer, list_params
from ..schemas import display_time
from .documents import ItemDocument
from .schemas import (
    MAX_LOOKUP_RESULTS,
    ItemCreateRequest,
    ItemDeleteResponse,
    ItemLookupEntry,
    ItemLookupRequest,
    ItemLookupResponse,
    ItemResponse,
    ItemUpdateRequest,
)

router = APIRouter(prefix="/api/v1/tenants/{tenant_id}/items", tags=["items"])
SORTABLE = frozenset(
    {
        "item_code",
        "description",
        "unit_price",
        "unit_cost",
        "category_code",
        "tax_code",
        "is_deleted",
        "created_at",
        "updated_at",
    }
)
ItemCode = Annotated[str, Path(max_length=64)]
Params = Annotated[PageParams, Depends(list_params(SORTABLE, [("item_code", 1)]))]


def item_out(doc: ItemDocument) -> ItemResponse:
    return ItemResponse(
        item_code=doc.item_code,
        description=doc.description,
        unit_price=doc.unit_price,
        unit_cost=doc.unit_cost,
        item_details=doc.item_details,
        image_urls=doc.image_urls,
        category_code=doc.category_code,
        tax_code=doc.tax_code,
        is_discount_restricted=doc.is_discount_restricted,
        is_stored_value=doc.is_stored_value,
        is_deleted=doc.is_deleted,
        entry_datetime=display_time(doc.created_at),
        last_update_datetime=display_time(doc.updated_at),
    )


@router.post("", status_code=status.HTTP_201_CREATED, response_model=ApiResponse[ItemResponse])
async def create_item_master_async(
    tenant_id: str, body: ItemCreateRequest, actor: Writer, items: ItemServiceDep
) -> ApiResponse[ItemResponse]:
    doc = await items.create(actor, tenant_id, body)
    return ok(
        item_out(doc),
        code=201,
        message=f"Item created successfully. item_code: {doc.item_code}",
        operation="create_item_master_async",
    )


@router.get("", response_model=ApiResponse[list[ItemResponse]])
async def get_item_master_all_async(
    tenant_id: str, _: Reader, items: ItemServiceDep, params: Params
) -> ApiResponse[list[ItemResponse]]:
    page = await items.list(tenant_id, params)
    return ok(
        [item_out(d) for d in page.items],
        message="Items retrieved successfully",
        operation="get_item_master_all_async",
        metadata=page.metadata({"tenant_id": tenant_id}),
    )


@router.post("/lookup", response_model=ApiResponse[ItemLookupResponse])
async def lookup_items(
    tenant_id: str, body: ItemLookupRequest, _: ItemLookup, items: ItemServiceDep
) -> ApiResponse[ItemLookupResponse]:
    """A read in POST form (beyond v1): up to 10,000 codes do not fit a query string."""
    found, unknown, more = await items.lookup(
        tenant_id, body.item_codes, body.category_codes, MAX_LOOKUP_RESULTS
    )
    return ok(
        ItemLookupResponse(
            items=[
                ItemLookupEntry(
                    item_code=d.item_code, category_code=d.category_code, description=d.description
                )
                for d in found
            ],
            unknown_item_codes=unknown,
            more=more,
        ),
        message="Items looked up",
        operation="lookup_items",
    )


@router.get("/{item_code}", response_model=ApiResponse[ItemResponse])
async def get_item_master_async(
    tenant_id: str,
    item_code: ItemCode,
    _: Reader,
    items: ItemServiceDep,
    is_logical_deleted: Annotated[
        bool, Query(description="true: look only among logically deleted items")
    ] = False,
) -> ApiResponse[ItemResponse]:
    doc = await items.get(tenant_id, item_code, deleted=is_logical_deleted)
    return ok(
        item_out(doc),
        message=f"Item found. item_code: {item_code}",
        operation="get_item_master_async",
    )


@router.put("/{item_code}", response_model=ApiResponse[ItemResponse])
async def update_item_master_async(
    tenant_id: str,
    item_code: ItemCode,
    body: ItemUpdateRequest,
    actor: Writer,
    items: ItemServiceDep,
) -> ApiResponse[ItemResponse]:
    doc = await items.update(actor, tenant_id, item_code, body)
    return ok(
        item_out(doc),
        message=f"Item updated successfully. item_code: {item_code}",
        operation="update_item_master_async",
    )


@router.delete("/{item_code}", response_model=ApiResponse[ItemDeleteResponse])
async def delete_item_master_async(
    tenant_id: str,
    item_code: ItemCode,
    actor: Writer,
    items: ItemServiceDep,
    is_logical: Annotated[bool, Query(description="true: mark deleted, keep the record")] = False,
) -> ApiResponse[ItemDeleteResponse]:
    await items.delete(actor, tenant_id, item_code, logical=is_logical)
    return ok(
        ItemDeleteResponse(item_code=item_code, is_logical=is_logical),
        message=f"Item deleted successfully. item_code: {item_code}",
        operation="delete_item_master_async",
    )
