"""Pending loads: `POST /api/v1/tenants/{tenant_id}/cards/{card_no}/loads` registers one (the
cart, for a card line or a refund to store credit); `GET …/loads/{load_id}` reads it, with
whether a void could still take it off (`reversible`)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Path, status

from kugelpos.common.envelope import ApiResponse, ok

from ..cards.router import CardNo
from ..dependencies import Cart, HoldReader, LoadServiceDep
from ..ledger.documents import Movement
from .documents import LoadDocument
from .schemas import LoadRequest, LoadResponse
from .service import LoadView

router = APIRouter(prefix="/api/v1/tenants/{tenant_id}", tags=["loads"])
LoadIdPath = Annotated[str, Path(min_length=1, max_length=64)]


@router.post(
    "/cards/{card_no}/loads",
    status_code=status.HTTP_201_CREATED,
    response_model=ApiResponse[LoadResponse],
)
async def register_load(
    tenant_id: str, card_no: CardNo, body: LoadRequest, caller: Cart, loads: LoadServiceDep
) -> ApiResponse[LoadResponse]:
    """Nothing moves yet: the transaction's log applies it when the sale is billed (a cart
    cancelled leaves it pending for ever, with no effect). Refused: an unknown or expired
    card, or one whose balance would pass its limit. The same `loadId` again answers the
    first."""
    load = await loads.register(
        LoadDocument(
            tenant_id=tenant_id,
            load_id=body.load_id or uuid.uuid4().hex,
            card_no=card_no,
            amount=body.amount,
            kind=Movement(body.kind),
            reference=body.reference,
            store_code=body.store_code,
            terminal_no=body.terminal_no,
        ),
        actor=caller.subject,
    )
    view = LoadView(load, reversible=False)
    return ok(LoadResponse.of(view), code=201, message="Load registered", operation="register_load")


@router.get("/loads/{load_id}", response_model=ApiResponse[LoadResponse])
async def get_load(
    tenant_id: str, load_id: LoadIdPath, _: HoldReader, loads: LoadServiceDep
) -> ApiResponse[LoadResponse]:
    view = await loads.get(tenant_id, load_id)
    return ok(LoadResponse.of(view), message="Load retrieved", operation="get_load")
