"""Snapshot endpoints (fixed segments, included before the `{item_code}` routes)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Depends, Path, Query, status

from kugelpos.common.envelope import ApiResponse, ok
from kugelpos.common.pagination import PageParams

from ..costs import from_cost_units
from ..dependencies import Reader, SnapshotServiceDep, StoreWriter, TerminalId
from ..quantities import from_units
from ..schemas import PaginatedResult, paged, stock_page_params
from .documents import SnapshotDocument
from .schemas import CreateSnapshotRequest, StockSnapshotItemResponse, StockSnapshotResponse

router = APIRouter(
    prefix="/api/v1/tenants/{tenant_id}/stores/{store_code}/stock", tags=["snapshots"]
)
StoreCode = Annotated[str, Path(min_length=1, max_length=64)]
Params = Annotated[PageParams, Depends(stock_page_params)]
DateBound = Annotated[str | None, Query(max_length=64)]


def snapshot_out(snapshot_id: str, doc: SnapshotDocument) -> StockSnapshotResponse:
    return StockSnapshotResponse(
        id=snapshot_id,
        tenant_id=doc.tenant_id,
        store_code=doc.store_code,
        total_items=doc.total_items,
        total_quantity=from_units(doc.total_units),
        stocks=[
            StockSnapshotItemResponse(
                item_code=i.item_code,
                quantity=from_units(i.quantity_units),
                minimum_quantity=from_units(i.minimum_units),
                reorder_point=from_units(i.reorder_point_units),
                reorder_quantity=from_units(i.reorder_quantity_units),
                average_cost=(
                    None if i.average_cost_units is None else from_cost_units(i.average_cost_units)
                ),
            )
            for i in doc.stocks
        ],
        created_by=doc.created_by or "system",
        created_at=doc.created_at,
        updated_at=doc.updated_at,
        generate_date_time=doc.generate_date_time,
    )


@router.post(
    "/snapshot",
    status_code=status.HTTP_201_CREATED,
    response_model=ApiResponse[StockSnapshotResponse],
)
async def create_snapshot(
    tenant_id: str,
    store_code: StoreCode,
    _: StoreWriter,
    snapshots: SnapshotServiceDep,
    body: Annotated[CreateSnapshotRequest | None, Body()] = None,
    terminal_id: TerminalId = None,
) -> ApiResponse[StockSnapshotResponse]:
    created_by = (body or CreateSnapshotRequest()).created_by
    if created_by == "system" and terminal_id:
        created_by = terminal_id
    snapshot_id, doc = await snapshots.create(tenant_id, store_code, created_by)
    return ok(
        snapshot_out(snapshot_id, doc),
        code=201,
        message="Snapshot created successfully",
        operation="create_snapshot",
    )


@router.get("/snapshots", response_model=ApiResponse[PaginatedResult[StockSnapshotResponse]])
async def get_snapshots_by_date_range(
    tenant_id: str,
    store_code: StoreCode,
    _: Reader,
    snapshots: SnapshotServiceDep,
    params: Params,
    start_date: DateBound = None,
    end_date: DateBound = None,
) -> ApiResponse[PaginatedResult[StockSnapshotResponse]]:
    rows, total = await snapshots.in_range(
        tenant_id, store_code, start_date, end_date, page=params.page, limit=params.limit
    )
    given = {k: v for k, v in (("start_date", start_date), ("end_date", end_date)) if v is not None}
    return ok(
        paged(
            [snapshot_out(i, d) for i, d in rows],
            total=total,
            page=params.page,
            limit=params.limit,
            sort="generate_date_time:-1",
            filter_=given or None,
        ),
        message="Snapshots retrieved successfully",
        operation="get_snapshots_by_date_range",
    )


@router.get("/snapshot/{snapshot_id}", response_model=ApiResponse[StockSnapshotResponse])
async def get_snapshot_by_id(
    tenant_id: str,
    store_code: StoreCode,
    snapshot_id: Annotated[str, Path(max_length=64)],
    _: Reader,
    snapshots: SnapshotServiceDep,
) -> ApiResponse[StockSnapshotResponse]:
    snapshot_id_found, doc = await snapshots.get(tenant_id, store_code, snapshot_id)
    return ok(
        snapshot_out(snapshot_id_found, doc),
        message="Snapshot retrieved successfully",
        operation="get_snapshot_by_id",
    )
