"""Holds: `POST /api/v1/tenants/{tenant_id}/cards/{card_no}/holds` places one;
`GET|POST …/holds/{hold_id}` (+ `/capture`, `/release`) read and close it. The cart's
payment, bill and cancellation call these with its service token."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Path, status

from kugelpos.common.envelope import ApiResponse, ok

from ..cards.router import CardNo, lookup_key
from ..dependencies import Cart, HoldReader, HoldServiceDep
from .schemas import CaptureRequest, HoldRequest, HoldResponse

router = APIRouter(prefix="/api/v1/tenants/{tenant_id}", tags=["holds"])
HoldIdPath = Annotated[str, Path(min_length=1, max_length=64)]


@router.post(
    "/cards/{card_no}/holds",
    status_code=status.HTTP_201_CREATED,
    response_model=ApiResponse[HoldResponse],
)
async def place_hold(
    tenant_id: str, card_no: CardNo, body: HoldRequest, caller: Cart, holds: HoldServiceDep
) -> ApiResponse[HoldResponse]:
    """Set `amount` aside on an active card (taken off its balance at once, so concurrent
    holds never overdraw it). Refused: not enough balance (400 416003, the balance in the
    message), a card inactive, blocked or expired (409 416002), unknown or wrong PIN (404
    416001). The same `holdId` again answers the first hold."""
    hold = await holds.place(
        tenant_id,
        card_no,
        body.amount,
        hold_id=body.hold_id or uuid.uuid4().hex,
        pin=body.pin,
        caller=lookup_key(caller),
        reference=body.reference,
        store_code=body.store_code,
        terminal_no=body.terminal_no,
        ttl_seconds=body.ttl_seconds,
        actor=caller.subject,
    )
    return ok(HoldResponse.of(hold), code=201, message="Hold placed", operation="place_hold")


@router.get("/holds/{hold_id}", response_model=ApiResponse[HoldResponse])
async def get_hold(
    tenant_id: str, hold_id: HoldIdPath, _: HoldReader, holds: HoldServiceDep
) -> ApiResponse[HoldResponse]:
    hold = await holds.get(tenant_id, hold_id)
    return ok(HoldResponse.of(hold), message="Hold retrieved", operation="get_hold")


@router.post("/holds/{hold_id}/capture", response_model=ApiResponse[HoldResponse])
async def capture_hold(
    tenant_id: str,
    hold_id: HoldIdPath,
    caller: Cart,
    holds: HoldServiceDep,
    body: CaptureRequest | None = None,
) -> ApiResponse[HoldResponse]:
    """Idempotent: a captured hold answers as it is; a released one is refused (409 416102)."""
    hold = await holds.capture(
        tenant_id, hold_id, transaction=body.transaction if body else None, actor=caller.subject
    )
    return ok(HoldResponse.of(hold), message="Hold captured", operation="capture_hold")


@router.post("/holds/{hold_id}/release", response_model=ApiResponse[HoldResponse])
async def release_hold(
    tenant_id: str, hold_id: HoldIdPath, caller: Cart, holds: HoldServiceDep
) -> ApiResponse[HoldResponse]:
    """Idempotent: a released hold answers as it is; a captured one is refused (409 416102)."""
    hold = await holds.release(tenant_id, hold_id, actor=caller.subject)
    return ok(HoldResponse.of(hold), message="Hold released", operation="release_hold")
