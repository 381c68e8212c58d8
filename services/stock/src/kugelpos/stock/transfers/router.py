"""Transfers between stores: `/api/v1/tenants/{tenant_id}/stock/transfers` (tenant-wide: a
transfer belongs to two stores). The back office (and a service) reads every transfer of the
tenant; a till reads only those from or to its own store."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, status

from kugelpos.common.auth.policy import terminal_store
from kugelpos.common.auth.principal import Principal, PrincipalKind
from kugelpos.common.envelope import ApiResponse, ok
from kugelpos.common.errors import PermissionDeniedError
from kugelpos.common.pagination import PageParams

from ..costs import from_cost_units
from ..dependencies import AlertServiceDep, BackOffice, Reader, TransferServiceDep
from ..errors import TransferNotFoundError
from ..quantities import from_units
from ..schemas import PaginatedResult, paged, stock_page_params
from .documents import TransferDocument, TransferStatus
from .schemas import (
    ReceivedLineResponse,
    ReceiveRequest,
    TransferLineResponse,
    TransferReceiptResponse,
    TransferRequest,
    TransferResponse,
)
from .service import TransferLine

router = APIRouter(prefix="/api/v1/tenants/{tenant_id}/stock/transfers", tags=["transfers"])
TransferId = Annotated[str, Path(min_length=1, max_length=64)]
Params = Annotated[PageParams, Depends(stock_page_params)]


def till_store(principal: Principal) -> str | None:
    """The store a till reads transfers of (None: not a till, it reads the tenant's)."""
    if principal.kind is not PrincipalKind.TERMINAL:
        return None
    store = terminal_store(principal)
    if store is None:
        raise PermissionDeniedError("A terminal without a store reads no transfers")
    return store


def transfer_out(doc: TransferDocument) -> TransferResponse:
    return TransferResponse(
        transfer_id=doc.transfer_id,
        tenant_id=doc.tenant_id,
        from_store=doc.from_store,
        to_store=doc.to_store,
        status=doc.status,
        operator_id=doc.operator_id,
        shipped_at=doc.shipped_at,
        closed_at=doc.closed_at,
        lines=[
            TransferLineResponse(
                item_code=x.item_code,
                shipped_quantity=from_units(x.shipped_units),
                received_quantity=from_units(x.received_units),
                in_transit_quantity=from_units(x.in_transit_units),
                discrepancy_quantity=from_units(x.discrepancy_units),
                unit_cost=from_cost_units(x.unit_cost_units),
            )
            for x in doc.lines
        ],
        receipts=[
            TransferReceiptResponse(
                received_at=r.received_at,
                lines=[
                    ReceivedLineResponse(item_code=x.item_code, quantity=from_units(x.units))
                    for x in r.lines
                ],
                operator_id=r.operator_id,
            )
            for r in doc.receipts
        ],
    )


@router.post("", status_code=status.HTTP_201_CREATED, response_model=ApiResponse[TransferResponse])
async def ship_transfer(
    tenant_id: str,
    body: TransferRequest,
    caller: BackOffice,
    transfers: TransferServiceDep,
    alerts: AlertServiceDep,
) -> ApiResponse[TransferResponse]:
    moved = await transfers.ship(
        tenant_id,
        body.from_store,
        body.to_store,
        [TransferLine(x.item_code, x.quantity) for x in body.lines],
        operator_id=body.operator_id,
        actor=caller.subject,
    )
    alerts.evaluate_later(moved.rows)
    return ok(
        transfer_out(moved.transfer),
        code=201,
        message="Transfer shipped",
        operation="ship_transfer",
    )


@router.post("/{transfer_id}/receive", response_model=ApiResponse[TransferResponse])
async def receive_transfer(
    tenant_id: str,
    transfer_id: TransferId,
    body: ReceiveRequest,
    caller: BackOffice,
    transfers: TransferServiceDep,
    alerts: AlertServiceDep,
) -> ApiResponse[TransferResponse]:
    moved = await transfers.receive(
        tenant_id,
        transfer_id,
        [TransferLine(x.item_code, x.quantity) for x in body.lines],
        complete=body.complete,
        operator_id=body.operator_id,
        actor=caller.subject,
    )
    alerts.evaluate_later(moved.rows)
    return ok(
        transfer_out(moved.transfer), message="Transfer received", operation="receive_transfer"
    )


@router.post("/{transfer_id}/cancel", response_model=ApiResponse[TransferResponse])
async def cancel_transfer(
    tenant_id: str,
    transfer_id: TransferId,
    caller: BackOffice,
    transfers: TransferServiceDep,
    alerts: AlertServiceDep,
) -> ApiResponse[TransferResponse]:
    moved = await transfers.cancel(tenant_id, transfer_id, operator_id=None, actor=caller.subject)
    alerts.evaluate_later(moved.rows)
    return ok(
        transfer_out(moved.transfer), message="Transfer cancelled", operation="cancel_transfer"
    )


@router.get("", response_model=ApiResponse[PaginatedResult[TransferResponse]])
async def list_transfers(
    tenant_id: str,
    caller: Reader,
    transfers: TransferServiceDep,
    params: Params,
    store: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
    state: Annotated[TransferStatus | None, Query()] = None,
) -> ApiResponse[PaginatedResult[TransferResponse]]:
    """`store`: transfers from or to it; `state`: in that state. A till's list is always of
    its own store (another store named: 403)."""
    own = till_store(caller)
    if own is not None:
        if store not in (None, own):
            raise PermissionDeniedError("A terminal reads only its own store's transfers")
        store = own
    page = await transfers.list(tenant_id, store, state, params)
    return ok(
        paged(
            [transfer_out(d) for d in page.items],
            total=page.total,
            page=params.page,
            limit=params.limit,
        ),
        message="Transfers retrieved successfully",
        operation="list_transfers",
    )


@router.get("/{transfer_id}", response_model=ApiResponse[TransferResponse])
async def get_transfer(
    tenant_id: str, transfer_id: TransferId, caller: Reader, transfers: TransferServiceDep
) -> ApiResponse[TransferResponse]:
    doc = await transfers.get(tenant_id, transfer_id)
    own = till_store(caller)
    if own is not None and own not in (doc.from_store, doc.to_store):
        # As if it were not there: a till learns nothing of other stores' transfers.
        raise TransferNotFoundError(f"Transfer {transfer_id} not found")
    return ok(
        transfer_out(doc), message="Transfer retrieved successfully", operation="get_transfer"
    )
