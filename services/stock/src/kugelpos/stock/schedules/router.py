"""`/api/v1/tenants/{tenant_id}/stock/snapshot-schedule` (snake_case payloads, operation null)."""

from __future__ import annotations

from fastapi import APIRouter

from kugelpos.common.envelope import ApiResponse, ok

from ..dependencies import BackOffice, Reader, ScheduleServiceDep
from .schemas import SnapshotScheduleCreate, SnapshotScheduleResponse

router = APIRouter(prefix="/api/v1/tenants/{tenant_id}/stock", tags=["snapshot-schedule"])


@router.get("/snapshot-schedule", response_model=ApiResponse[SnapshotScheduleResponse])
async def get_snapshot_schedule(
    tenant_id: str, _: Reader, schedules: ScheduleServiceDep
) -> ApiResponse[SnapshotScheduleResponse]:
    doc = await schedules.effective(tenant_id)
    return ok(schedules.response(doc), message="Snapshot schedule retrieved successfully")


@router.put("/snapshot-schedule", response_model=ApiResponse[SnapshotScheduleResponse])
async def update_snapshot_schedule(
    tenant_id: str, body: SnapshotScheduleCreate, caller: BackOffice, schedules: ScheduleServiceDep
) -> ApiResponse[SnapshotScheduleResponse]:
    doc = await schedules.put(tenant_id, body, caller.subject)
    return ok(schedules.response(doc), message="Snapshot schedule updated successfully")


@router.delete("/snapshot-schedule", response_model=ApiResponse[dict[str, bool]])
async def delete_snapshot_schedule(
    tenant_id: str, _: BackOffice, schedules: ScheduleServiceDep
) -> ApiResponse[dict[str, bool]]:
    await schedules.delete(tenant_id)
    return ok({"deleted": True}, message="Snapshot schedule deleted successfully")
