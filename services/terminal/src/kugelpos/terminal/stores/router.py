"""`/api/v1/tenants/{tenant_id}/stores`: add, list, get, update, delete."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, status

from kugelpos.common.auth.dependencies import CurrentPrincipal, ensure_tenant
from kugelpos.common.envelope import ApiResponse, ok
from kugelpos.common.pagination import PageParams, page_params, parse_sort

from ..access import BackOffice
from ..dependencies import StoreServiceDep
from ..tenants.schemas import (
    Store,
    StoreCreateRequest,
    StoreDeleteResponse,
    StoreUpdateRequest,
    Tenant,
)
from .service import SORTABLE

router = APIRouter(prefix="/api/v1/tenants/{tenant_id}/stores", tags=["stores"])
type StoreCode = Annotated[str, Query(max_length=64)]


async def _store_params(params: Annotated[PageParams, Depends(page_params)]) -> PageParams:
    for field_name, _ in params.sort:
        parse_sort(field_name, SORTABLE)
    return params


@router.post("", status_code=status.HTTP_201_CREATED, response_model=ApiResponse[Tenant])
async def add_store(
    tenant_id: str, body: StoreCreateRequest, principal: BackOffice, stores: StoreServiceDep
) -> ApiResponse[Tenant]:
    tenant = await stores.add(principal, tenant_id, body)
    return ok(
        Tenant.of(tenant),
        code=201,
        message=f"Store created successfully for tenant {tenant_id}",
        operation="add_store",
    )


@router.get("", response_model=ApiResponse[list[Store]])
async def get_stores(
    tenant_id: str,
    principal: CurrentPrincipal,
    stores: StoreServiceDep,
    params: Annotated[PageParams, Depends(_store_params)],
    terminal_id: Annotated[str | None, Query(max_length=128)] = None,
) -> ApiResponse[list[Store]]:
    ensure_tenant(principal, tenant_id)
    page = await stores.list(tenant_id, params)
    return ok(
        [Store.of(s) for s in page.items],
        message=f"Stores info for tenant {tenant_id}",
        operation="get_stores",
        metadata=page.metadata({"tenant_id": tenant_id}),
    )


@router.get("/{store_code}", response_model=ApiResponse[Store])
async def get_store(
    tenant_id: str,
    store_code: str,
    principal: CurrentPrincipal,
    stores: StoreServiceDep,
    terminal_id: Annotated[str | None, Query(max_length=128)] = None,
) -> ApiResponse[Store]:
    ensure_tenant(principal, tenant_id)
    store = await stores.get(tenant_id, store_code)
    return ok(Store.of(store), message=f"Store info for tenant {tenant_id}", operation="get_store")


@router.put("/{store_code}", response_model=ApiResponse[Store])
async def update_store(
    tenant_id: str,
    store_code: str,
    body: StoreUpdateRequest,
    principal: BackOffice,
    stores: StoreServiceDep,
) -> ApiResponse[Store]:
    store = await stores.update(principal, tenant_id, store_code, body)
    return ok(
        Store.of(store),
        message=f"Store updated successfully for tenant {tenant_id}",
        operation="update_store",
    )


@router.delete("/{store_code}", response_model=ApiResponse[StoreDeleteResponse])
async def delete_store(
    tenant_id: str, store_code: str, principal: BackOffice, stores: StoreServiceDep
) -> ApiResponse[StoreDeleteResponse]:
    await stores.delete(principal, tenant_id, store_code)
    return ok(
        StoreDeleteResponse(store_code=store_code),
        message=f"Store deleted successfully for tenant {tenant_id}",
        operation="delete_store",
    )
