"""`/api/v1/tenants/{tenant_id}/stock/snapshot-schedule` (snake_case payloads, operation null)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from kugelpos.common.envelope import ApiResponse, ok
from kugelpos.common.web.app import Infrastructure, infrastructure

from ..dependencies import BackOffice, Caller, settings_of
from .schemas import SnapshotScheduleCreate, SnapshotScheduleResponse
from .service import ScheduleService

router = APIRouter(prefix="/api/v1/tenants/{tenant_id}/stock", tags=["snapshot-schedule"])


async def get_schedule_service(
    infra: Annotated[Infrastructure, Depends(infrastructure)],
) -> ScheduleService:
    return ScheduleService(infra.mongo, settings_of(infra))


type Schedules = Annotated[ScheduleService, Depends(get_schedule_service)]


@router.get("/snapshot-schedule", response_model=ApiResponse[SnapshotScheduleResponse])
async def get_snapshot_schedule(
    tenant_id: str, _: Caller, schedules: Schedules
) -> ApiResponse[SnapshotScheduleResponse]:
    doc = await schedules.effective(tenant_id)
    return ok(schedules.response(doc), message="Snapshot schedule retrieved successfully")


@router.put("/snapshot-schedule", response_model=ApiResponse[SnapshotScheduleResponse])
async def update_snapshot_schedule(
    tenant_id: str, body: SnapshotScheduleCreate, caller: BackOffice, schedules: Schedules
) -> ApiResponse[SnapshotScheduleResponse]:
    doc = await schedules.put(tenant_id, body, caller.subject)
    return ok(schedules.response(doc), message="Snapshot schedule updated successfully")


@router.delete("/snapshot-schedule", response_model=ApiResponse[dict[str, bool]])
async def delete_snapshot_schedule(
    tenant_id: str, _: BackOffice, schedules: Schedules
) -> ApiResponse[dict[str, bool]]:
    await schedules.delete(tenant_id)
    return ok({"deleted": True}, message="Snapshot schedule deleted successfully")
