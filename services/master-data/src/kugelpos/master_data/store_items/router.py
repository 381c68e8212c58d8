"""Store item endpoints: `/api/v1/tenants/{tenant_id}/stores/{store_code}/items`."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, status

from kugelpos.common.envelope import ApiResponse, ok
from kugelpos.common.pagination import PageParams

from ..dependencies import Reader, StoreItemServiceDep, Writer, list_params
from ..schemas import display_time
from .documents import StoreItemDocument
from .schemas import (
    ItemStoreCreateRequest,
    ItemStoreDeleteResponse,
    ItemStoreDetailResponse,
    ItemStoreResponse,
    ItemStoreUpdateRequest,
)

router = APIRouter(
    prefix="/api/v1/tenants/{tenant_id}/stores/{store_code}/items", tags=["store items"]
)
SORTABLE = frozenset({"item_code", "store_price", "created_at", "updated_at"})
StoreCode = Annotated[str, Path(max_length=64)]
ItemCode = Annotated[str, Path(max_length=64)]
Params = Annotated[PageParams, Depends(list_params(SORTABLE, [("item_code", 1)]))]


def _out(doc: StoreItemDocument) -> ItemStoreResponse:
    return ItemStoreResponse(
        item_code=doc.item_code,
        store_price=doc.store_price,
        entry_datetime=display_time(doc.created_at),
        last_update_datetime=display_time(doc.updated_at),
    )


@router.post("", status_code=status.HTTP_201_CREATED, response_model=ApiResponse[ItemStoreResponse])
async def create_item_store_master_async(
    tenant_id: str,
    store_code: StoreCode,
    body: ItemStoreCreateRequest,
    actor: Writer,
    store_items: StoreItemServiceDep,
) -> ApiResponse[ItemStoreResponse]:
    doc = await store_items.create(actor, tenant_id, store_code, body.item_code, body.store_price)
    return ok(
        _out(doc),
        code=201,
        message=f"Store item created successfully. item_code: {doc.item_code}",
        operation="create_item_master_async",
    )


@router.get("", response_model=ApiResponse[list[ItemStoreResponse]])
async def get_item_store_master_all_async(
    tenant_id: str,
    store_code: StoreCode,
    _: Reader,
    store_items: StoreItemServiceDep,
    params: Params,
) -> ApiResponse[list[ItemStoreResponse]]:
    page = await store_items.list(tenant_id, store_code, params)
    return ok(
        [_out(d) for d in page.items],
        message=f"Store items retrieved successfully. store_code: {store_code}",
        operation="get_item_store_master_all_async",
        metadata=page.metadata({"tenant_id": tenant_id, "store_code": store_code}),
    )


@router.get("/{item_code}", response_model=ApiResponse[ItemStoreResponse])
async def get_item_store_master_async(
    tenant_id: str,
    store_code: StoreCode,
    item_code: ItemCode,
    _: Reader,
    store_items: StoreItemServiceDep,
) -> ApiResponse[ItemStoreResponse]:
    doc = await store_items.get(tenant_id, store_code, item_code)
    return ok(
        _out(doc),
        message=f"Store item found. item_code: {item_code}",
        operation="get_item_store_master_async",
    )


@router.put("/{item_code}", response_model=ApiResponse[ItemStoreResponse])
async def update_item_store_master_async(
    tenant_id: str,
    store_code: StoreCode,
    item_code: ItemCode,
    body: ItemStoreUpdateRequest,
    actor: Writer,
    store_items: StoreItemServiceDep,
) -> ApiResponse[ItemStoreResponse]:
    doc = await store_items.update(actor, tenant_id, store_code, item_code, body.store_price)
    return ok(
        _out(doc),
        message=f"Store item updated successfully. item_code: {item_code}",
        operation="update_item_store_master_async",
    )


@router.delete("/{item_code}", response_model=ApiResponse[ItemStoreDeleteResponse])
async def delete_item_store_master_async(
    tenant_id: str,
    store_code: StoreCode,
    item_code: ItemCode,
    _: Writer,
    store_items: StoreItemServiceDep,
) -> ApiResponse[ItemStoreDeleteResponse]:
    await store_items.delete(tenant_id, store_code, item_code)
    return ok(
        ItemStoreDeleteResponse(item_code=item_code),
        message=f"Store item deleted successfully. item_code: {item_code}",
        operation="delete_item_store_master_async",
    )


@router.get("/{item_code}/details", response_model=ApiResponse[ItemStoreDetailResponse])
async def get_item_store_master_detail_async(
    tenant_id: str,
    store_code: StoreCode,
    item_code: ItemCode,
    _: Reader,
    store_items: StoreItemServiceDep,
) -> ApiResponse[ItemStoreDetailResponse]:
    details = await store_items.details(tenant_id, store_code, item_code)
    return ok(
        details,
        message=f"Item details found. item_code: {item_code}",
        operation="get_item_store_master_detail_async",
    )
