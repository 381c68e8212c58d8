"""Staff endpoints: `/api/v1/tenants/{tenant_id}/staff`."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, status

from kugelpos.common.envelope import ApiResponse, ok
from kugelpos.common.pagination import PageParams

from ..dependencies import PinChecker, Reader, StaffServiceDep, Writer, list_params
from ..schemas import display_time
from .documents import StaffDocument
from .schemas import (
    PIN_MASK,
    PinVerifyRequest,
    PinVerifyResponse,
    StaffCreateRequest,
    StaffDeleteResponse,
    StaffResponse,
    StaffUpdateRequest,
)

router = APIRouter(prefix="/api/v1/tenants/{tenant_id}/staff", tags=["staff"])
SORTABLE = frozenset({"id", "name", "created_at", "updated_at"})
StaffId = Annotated[str, Path(max_length=64)]
Params = Annotated[PageParams, Depends(list_params(SORTABLE, [("id", 1)]))]


def _out(doc: StaffDocument) -> StaffResponse:
    return StaffResponse(
        id=doc.id,
        name=doc.name,
        pin=PIN_MASK if doc.pin_hash else "",
        has_pin=bool(doc.pin_hash),
        roles=doc.roles,
        entry_datetime=display_time(doc.created_at),
        last_update_datetime=display_time(doc.updated_at),
    )


@router.post("", status_code=status.HTTP_201_CREATED, response_model=ApiResponse[StaffResponse])
async def create_staff_master_async(
    tenant_id: str, body: StaffCreateRequest, actor: Writer, staff: StaffServiceDep
) -> ApiResponse[StaffResponse]:
    doc = await staff.create(actor, tenant_id, body.id, body.name, body.pin, body.roles)
    return ok(
        _out(doc),
        code=201,
        message=f"Staff master created successfully. staff_id: {doc.id}",
        operation="create_staff_master_async",
    )


@router.get("", response_model=ApiResponse[list[StaffResponse]])
async def get_staff_master_all_async(
    tenant_id: str, _: Reader, staff: StaffServiceDep, params: Params
) -> ApiResponse[list[StaffResponse]]:
    page = await staff.list(tenant_id, params)
    return ok(
        [_out(d) for d in page.items],
        message="Staff master retrieved successfully",
        operation="get_staff_master_all_async",
        metadata=page.metadata({"tenant_id": tenant_id}),
    )


@router.get("/{staff_id}", response_model=ApiResponse[StaffResponse])
async def get_staff_master_async(
    tenant_id: str, staff_id: StaffId, _: Reader, staff: StaffServiceDep
) -> ApiResponse[StaffResponse]:
    doc = await staff.get(tenant_id, staff_id)
    return ok(
        _out(doc),
        message=f"Staff master retrieved successfully. staff_id: {staff_id}",
        operation="get_staff_master_async",
    )


@router.put("/{staff_id}", response_model=ApiResponse[StaffResponse])
async def update_staff_master_async(
    tenant_id: str,
    staff_id: StaffId,
    body: StaffUpdateRequest,
    actor: Writer,
    staff: StaffServiceDep,
) -> ApiResponse[StaffResponse]:
    doc = await staff.update(actor, tenant_id, staff_id, body.name, body.pin, body.roles)
    return ok(
        _out(doc),
        message=f"Staff master updated successfully. staff_id: {staff_id}",
        operation="update_staff_master_async",
    )


@router.delete("/{staff_id}", response_model=ApiResponse[StaffDeleteResponse])
async def delete_staff_master_async(
    tenant_id: str, staff_id: StaffId, _: Writer, staff: StaffServiceDep
) -> ApiResponse[StaffDeleteResponse]:
    await staff.delete(tenant_id, staff_id)
    return ok(
        StaffDeleteResponse(staff_id=staff_id),
        message=f"Staff master deleted successfully. staff_id: {staff_id}",
        operation="delete_staff_master_async",
    )


@router.post("/{staff_id}/verify-pin", response_model=ApiResponse[PinVerifyResponse])
async def verify_staff_pin(
    tenant_id: str, staff_id: StaffId, body: PinVerifyRequest, _: PinChecker, staff: StaffServiceDep
) -> ApiResponse[PinVerifyResponse]:
    valid = await staff.verify_pin(tenant_id, staff_id, body.pin)
    return ok(
        PinVerifyResponse(valid=valid),
        message="PIN verified" if valid else "PIN does not match",
        operation="verify_staff_pin",
    )
