"""Physical counts under `/api/v1/tenants/{tenant_id}/stores/{store_code}/stock/counts`
(fixed segment, included before the `{item_code}` routes)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Depends, Path, Query, status

from kugelpos.common.envelope import ApiResponse, ok
from kugelpos.common.pagination import PageParams

from ..adjustments.schemas import MAX_LINES
from ..costs import from_cost_units, stock_value_units
from ..dependencies import AlertServiceDep, BackOffice, CountServiceDep, Reader, StoreWriter
from ..quantities import from_units
from ..schemas import PaginatedResult, paged, stock_page_params
from .documents import CountDocument, CountStatus
from .schemas import (
    CountEntryLineResponse,
    CountEntryResponse,
    CountItemResponse,
    CountLineRequest,
    CountRequest,
    CountResponse,
    CountSummaryResponse,
    CountZoneResponse,
)
from .service import CountEntry, CountView, EnteredLine

router = APIRouter(
    prefix="/api/v1/tenants/{tenant_id}/stores/{store_code}/stock/counts", tags=["counts"]
)
StoreCode = Annotated[str, Path(min_length=1, max_length=64)]
CountId = Annotated[str, Path(min_length=1, max_length=64)]
Lines = Annotated[list[CountLineRequest], Body(min_length=1, max_length=MAX_LINES)]
Params = Annotated[PageParams, Depends(stock_page_params)]


def _units(units: int | None):
    return None if units is None else from_units(units)


def count_out(view: CountView) -> CountResponse:
    c = view.count
    items = []
    total = 0
    for i in view.items:
        value = None
        if i.variance_units is not None:
            value = stock_value_units(i.variance_units, i.average_cost_units)
            total += value
        items.append(
            CountItemResponse(
                item_code=i.item_code,
                expected_quantity=_units(i.expected_units),
                counted_quantity=_units(i.counted_units),
                variance=_units(i.variance_units),
                average_cost=from_cost_units(i.average_cost_units),
                variance_value=None if value is None else from_cost_units(value),
                current_quantity=from_units(i.current_units),
                zones=[
                    CountZoneResponse(
                        zone=z.zone,
                        counted_quantity=from_units(z.counted_units),
                        quantity_at_count=from_units(z.quantity_at_units),
                    )
                    for z in i.zones
                ],
            )
        )
    return CountResponse(
        count_id=c.count_id,
        tenant_id=c.tenant_id,
        store_code=c.store_code,
        status=c.status,
        item_codes=c.item_codes,
        operator_id=c.operator_id,
        opened_at=c.opened_at,
        closed_at=c.closed_at,
        items=items,
        total_variance_value=from_cost_units(total),
    )


def entry_out(entry: CountEntry) -> CountEntryResponse:
    c = entry.count
    return CountEntryResponse(
        count_id=c.count_id,
        tenant_id=c.tenant_id,
        store_code=c.store_code,
        status=c.status,
        revision=c.revision,
        lines=[
            CountEntryLineResponse(
                item_code=x.item_code,
                zone=x.zone,
                counted_quantity=from_units(x.counted_units),
                quantity_at_count=from_units(x.quantity_at_units),
            )
            for x in entry.lines
        ],
    )


def summary_out(c: CountDocument) -> CountSummaryResponse:
    posted = c.status is CountStatus.POSTED
    total = sum(stock_value_units(p.variance_units, p.average_cost_units) for p in c.posted_lines)
    return CountSummaryResponse(
        count_id=c.count_id,
        tenant_id=c.tenant_id,
        store_code=c.store_code,
        status=c.status,
        item_codes=c.item_codes,
        operator_id=c.operator_id,
        opened_at=c.opened_at,
        closed_at=c.closed_at,
        posted_items=len(c.posted_lines) if posted else None,
        total_variance_value=from_cost_units(total) if posted else None,
    )


@router.get("", response_model=ApiResponse[PaginatedResult[CountSummaryResponse]])
async def list_counts(
    tenant_id: str,
    store_code: StoreCode,
    _: Reader,
    counts: CountServiceDep,
    params: Params,
    state: Annotated[CountStatus | None, Query(alias="status")] = None,
) -> ApiResponse[PaginatedResult[CountSummaryResponse]]:
    page = await counts.list(tenant_id, store_code, state, params)
    return ok(
        paged(
            [summary_out(c) for c in page.items],
            total=page.total,
            page=params.page,
            limit=params.limit,
        ),
        message="Counts retrieved successfully",
        operation="list_counts",
    )


@router.post("", status_code=status.HTTP_201_CREATED, response_model=ApiResponse[CountResponse])
async def open_count(
    tenant_id: str,
    store_code: StoreCode,
    body: CountRequest,
    caller: BackOffice,
    counts: CountServiceDep,
) -> ApiResponse[CountResponse]:
    count = await counts.open(
        tenant_id,
        store_code,
        body.item_codes,
        category_codes=body.category_codes,
        operator_id=body.operator_id,
        actor=caller.subject,
    )
    view = await counts.view(tenant_id, store_code, count.count_id)
    return ok(count_out(view), code=201, message="Count opened", operation="open_count")


@router.put("/{count_id}/lines", response_model=ApiResponse[CountEntryResponse])
async def enter_count_lines(
    tenant_id: str,
    store_code: StoreCode,
    count_id: CountId,
    body: Lines,
    caller: StoreWriter,
    counts: CountServiceDep,
) -> ApiResponse[CountEntryResponse]:
    entry = await counts.enter(
        tenant_id,
        store_code,
        count_id,
        [EnteredLine(x.item_code, x.zone, x.counted_quantity) for x in body],
        actor=caller.subject,
    )
    return ok(entry_out(entry), message="Count lines entered", operation="enter_count_lines")


@router.get("/{count_id}", response_model=ApiResponse[CountResponse])
async def get_count(
    tenant_id: str, store_code: StoreCode, count_id: CountId, _: Reader, counts: CountServiceDep
) -> ApiResponse[CountResponse]:
    view = await counts.view(tenant_id, store_code, count_id)
    return ok(count_out(view), message="Count retrieved successfully", operation="get_count")


@router.post("/{count_id}/post", response_model=ApiResponse[CountResponse])
async def post_count(
    tenant_id: str,
    store_code: StoreCode,
    count_id: CountId,
    caller: BackOffice,
    counts: CountServiceDep,
    alerts: AlertServiceDep,
) -> ApiResponse[CountResponse]:
    view, rows = await counts.post(tenant_id, store_code, count_id, actor=caller.subject)
    alerts.evaluate_later(rows)
    return ok(count_out(view), message="Count posted", operation="post_count")


@router.post("/{count_id}/cancel", response_model=ApiResponse[CountResponse])
async def cancel_count(
    tenant_id: str,
    store_code: StoreCode,
    count_id: CountId,
    caller: BackOffice,
    counts: CountServiceDep,
) -> ApiResponse[CountResponse]:
    view = await counts.cancel(tenant_id, store_code, count_id, actor=caller.subject)
    return ok(count_out(view), message="Count cancelled", operation="cancel_count")
