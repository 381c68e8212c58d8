"""Parameter endpoints, at the v1 contract's `/api/v1/tenants/{tenant_id}/settings`."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, status

from kugelpos.common.envelope import ApiResponse, ok
from kugelpos.common.pagination import PageParams

from ..dependencies import ParameterServiceDep, Reader, Writer, list_params
from ..schemas import display_time
from .documents import ParameterDocument
from .schemas import (
    BaseSettingsMasterValue,
    SettingsMasterCreateRequest,
    SettingsMasterDeleteResponse,
    SettingsMasterResponse,
    SettingsMasterUpdateRequest,
    SettingsMasterValueResponse,
)

router = APIRouter(prefix="/api/v1/tenants/{tenant_id}/settings", tags=["settings"])
SORTABLE = frozenset({"name", "created_at", "updated_at"})
Name = Annotated[str, Path(max_length=64)]
Params = Annotated[PageParams, Depends(list_params(SORTABLE, [("name", 1)]))]


def _out(doc: ParameterDocument) -> SettingsMasterResponse:
    return SettingsMasterResponse(
        name=doc.name,
        default_value=doc.default_value,
        values=[
            BaseSettingsMasterValue.model_construct(
                store_code=v.store_code, terminal_no=v.terminal_no, value=v.value
            )
            for v in doc.values
        ],
        entry_datetime=display_time(doc.created_at),
        last_update_datetime=display_time(doc.updated_at),
    )


@router.post(
    "", status_code=status.HTTP_201_CREATED, response_model=ApiResponse[SettingsMasterResponse]
)
async def create_settings_master_async(
    tenant_id: str,
    body: SettingsMasterCreateRequest,
    actor: Writer,
    parameters: ParameterServiceDep,
) -> ApiResponse[SettingsMasterResponse]:
    doc = await parameters.create(actor, tenant_id, body)
    return ok(
        _out(doc),
        code=201,
        message=f"Settings master created successfully. name: {doc.name}",
        operation="create_settings_master_async",
    )


@router.get("", response_model=ApiResponse[list[SettingsMasterResponse]])
async def get_settings_master_async(
    tenant_id: str, _: Reader, parameters: ParameterServiceDep, params: Params
) -> ApiResponse[list[SettingsMasterResponse]]:
    page = await parameters.list(tenant_id, params)
    return ok(
        [_out(d) for d in page.items],
        message="Settings master retrieved successfully",
        operation="get_settings_master_async",
        metadata=page.metadata({"tenant_id": tenant_id}),
    )


@router.get("/{name}", response_model=ApiResponse[SettingsMasterResponse])
async def get_settings_master_by_name_async(
    tenant_id: str, name: Name, _: Reader, parameters: ParameterServiceDep
) -> ApiResponse[SettingsMasterResponse]:
    doc = await parameters.get(tenant_id, name)
    return ok(
        _out(doc),
        message=f"Settings master found. name: {name}",
        operation="get_settings_master_by_name_async",
    )


@router.get("/{name}/value", response_model=ApiResponse[SettingsMasterValueResponse])
async def get_settings_value_by_name_async(
    tenant_id: str,
    name: Name,
    _: Reader,
    parameters: ParameterServiceDep,
    store_code: Annotated[str, Query(min_length=1, max_length=64)],
    terminal_no: Annotated[int, Query(ge=0, le=1_000_000)],
) -> ApiResponse[SettingsMasterValueResponse]:
    value = await parameters.value(tenant_id, name, store_code, terminal_no)
    return ok(
        SettingsMasterValueResponse(value=value),
        message=f"Settings value found. name: {name}",
        operation="get_settings_value_by_name_async",
    )


@router.put("/{name}", response_model=ApiResponse[SettingsMasterResponse])
async def update_settings_master_async(
    tenant_id: str,
    name: Name,
    body: SettingsMasterUpdateRequest,
    actor: Writer,
    parameters: ParameterServiceDep,
) -> ApiResponse[SettingsMasterResponse]:
    doc = await parameters.update(actor, tenant_id, name, body)
    return ok(
        _out(doc),
        message=f"Settings master updated successfully. name: {name}",
        operation="update_settings_master_async",
    )


@router.delete("/{name}", response_model=ApiResponse[SettingsMasterDeleteResponse])
async def delete_settings_master_async(
    tenant_id: str, name: Name, _: Writer, parameters: ParameterServiceDep
) -> ApiResponse[SettingsMasterDeleteResponse]:
    await parameters.delete(tenant_id, name)
    return ok(
        SettingsMasterDeleteResponse(name=name),
        message=f"Settings master deleted successfully. name: {name}",
        operation="delete_settings_master_async",
    )
