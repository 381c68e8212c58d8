"""Stock endpoints: `/api/v1/tenants/{tenant_id}/stores/{store_code}/stock...`.

Declared in routing order: the fixed segments (`low`, `reorder-alerts`, and the snapshot
routes, included before this router) win over `{item_code}`."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path

from kugelpos.common.envelope import ApiResponse, ok
from kugelpos.common.pagination import PageParams

from ..costs import from_cost_units
from ..dependencies import AlertServiceDep, Reader, StockServiceDep, StoreWriter, TerminalId
from ..quantities import from_units
from ..schemas import PaginatedResult, paged, stock_page_params, unpaged
from .documents import StockDocument, StockUpdateDocument
from .schemas import (
    SetMinimumQuantityRequest,
    SetReorderParametersRequest,
    StockResponse,
    StockUpdateRequest,
    StockUpdateResponse,
)
from .service import StockChange

router = APIRouter(prefix="/api/v1/tenants/{tenant_id}/stores/{store_code}/stock", tags=["stock"])
StoreCode = Annotated[str, Path(min_length=1, max_length=64)]
ItemCode = Annotated[str, Path(min_length=1, max_length=64)]
Params = Annotated[PageParams, Depends(stock_page_params)]


def stock_out(row: StockDocument) -> StockResponse:
    return StockResponse(
        tenant_id=row.tenant_id,
        store_code=row.store_code,
        item_code=row.item_code,
        current_quantity=row.current_quantity,
        minimum_quantity=row.minimum_quantity,
        reorder_point=row.reorder_point,
        reorder_quantity=row.reorder_quantity,
        last_updated=row.updated_at or row.created_at,
        last_transaction_id=row.last_transaction_id,
        average_cost=row.average_cost,
    )


def update_out(doc: StockUpdateDocument) -> StockUpdateResponse:
    return StockUpdateResponse(
        tenant_id=doc.tenant_id,
        store_code=doc.store_code,
        item_code=doc.item_code,
        update_type=doc.update_type,
        quantity_change=from_units(doc.change_units),
        before_quantity=from_units(doc.before_units),
        after_quantity=from_units(doc.after_units),
        reference_id=doc.reference_id,
        timestamp=doc.timestamp,
        operator_id=doc.operator_id,
        note=doc.note,
        transaction_key=doc.transaction_key,
        flags=doc.flags,
        unit_cost=None if doc.unit_cost_units is None else from_cost_units(doc.unit_cost_units),
        average_cost=(
            None if doc.average_cost_units is None else from_cost_units(doc.average_cost_units)
        ),
    )


@router.get("", response_model=ApiResponse[PaginatedResult[StockResponse]])
async def get_store_stocks(
    tenant_id: str, store_code: StoreCode, _: Reader, stocks: StockServiceDep, params: Params
) -> ApiResponse[PaginatedResult[StockResponse]]:
    page = await stocks.list(tenant_id, store_code, params)
    return ok(
        paged(
            [stock_out(r) for r in page.items],
            total=page.total,
            page=params.page,
            limit=params.limit,
        ),
        message="Stock list retrieved successfully",
        operation="get_store_stocks",
    )


@router.get("/low", response_model=ApiResponse[PaginatedResult[StockResponse]])
async def get_low_stocks(
    tenant_id: str, store_code: StoreCode, _: Reader, stocks: StockServiceDep
) -> ApiResponse[PaginatedResult[StockResponse]]:
    rows = await stocks.low(tenant_id, store_code)
    return ok(
        unpaged([stock_out(r) for r in rows]),
        message="Low stock items retrieved successfully",
        operation="get_low_stocks",
    )


@router.get("/reorder-alerts", response_model=ApiResponse[PaginatedResult[StockResponse]])
async def get_reorder_alerts(
    tenant_id: str, store_code: StoreCode, _: Reader, stocks: StockServiceDep
) -> ApiResponse[PaginatedResult[StockResponse]]:
    rows = await stocks.reorder(tenant_id, store_code)
    return ok(
        unpaged([stock_out(r) for r in rows]),
        message="Reorder alert items retrieved successfully",
        operation="get_reorder_alerts",
    )


@router.get("/{item_code}", response_model=ApiResponse[StockResponse])
async def get_stock(
    tenant_id: str, store_code: StoreCode, item_code: ItemCode, _: Reader, stocks: StockServiceDep
) -> ApiResponse[StockResponse]:
    row = await stocks.get(tenant_id, store_code, item_code)
    return ok(stock_out(row), message="Stock retrieved successfully", operation="get_stock")


@router.put("/{item_code}/update", response_model=ApiResponse[StockUpdateResponse])
async def update_stock(
    tenant_id: str,
    store_code: StoreCode,
    item_code: ItemCode,
    body: StockUpdateRequest,
    caller: StoreWriter,
    stocks: StockServiceDep,
    alerts: AlertServiceDep,
    terminal_id: TerminalId = None,
) -> ApiResponse[StockUpdateResponse]:
    applied = await stocks.update(
        tenant_id,
        StockChange(
            store_code=store_code,
            item_code=item_code,
            quantity_change=body.quantity_change,
            update_type=body.update_type,
            reference_id=body.reference_id,
            operator_id=body.operator_id or terminal_id,
            note=body.note,
        ),
        actor=caller.subject,
    )
    alerts.evaluate_later([applied.row])
    return ok(
        update_out(applied.history), message="Stock updated successfully", operation="update_stock"
    )


@router.get(
    "/{item_code}/history", response_model=ApiResponse[PaginatedResult[StockUpdateResponse]]
)
async def get_stock_history(
    tenant_id: str,
    store_code: StoreCode,
    item_code: ItemCode,
    _: Reader,
    stocks: StockServiceDep,
    params: Params,
) -> ApiResponse[PaginatedResult[StockUpdateResponse]]:
    page = await stocks.history(tenant_id, store_code, item_code, params)
    return ok(
        paged(
            [update_out(d) for d in page.items],
            total=page.total,
            page=params.page,
            limit=params.limit,
        ),
        message="Stock history retrieved successfully",
        operation="get_stock_history",
    )


@router.put("/{item_code}/minimum", response_model=ApiResponse[None])
async def set_minimum_quantity(
    tenant_id: str,
    store_code: StoreCode,
    item_code: ItemCode,
    body: SetMinimumQuantityRequest,
    caller: StoreWriter,
    stocks: StockServiceDep,
) -> ApiResponse[None]:
    """v1: no alert evaluation here (only quantity changes and reorder parameters alert)."""
    await stocks.set_thresholds(
        tenant_id,
        store_code,
        item_code,
        {"minimum": body.minimum_quantity},
        actor=caller.subject,
    )
    return ok(None, message="Minimum quantity set successfully", operation="set_minimum_quantity")


@router.put("/{item_code}/reorder", response_model=ApiResponse[None])
async def set_reorder_parameters(
    tenant_id: str,
    store_code: StoreCode,
    item_code: ItemCode,
    body: SetReorderParametersRequest,
    caller: StoreWriter,
    stocks: StockServiceDep,
    alerts: AlertServiceDep,
) -> ApiResponse[None]:
    row = await stocks.set_thresholds(
        tenant_id,
        store_code,
        item_code,
        {"reorder_point": body.reorder_point, "reorder_quantity": body.reorder_quantity},
        actor=caller.subject,
    )
    alerts.evaluate_later([row])
    return ok(
        None, message="Reorder parameters set successfully", operation="set_reorder_parameters"
    )
