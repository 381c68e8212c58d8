"""Offline selling endpoints (issue 27): the block reservation the terminal service asks for
(service token only), the till's upload of its offline sales (the till itself), and the
manager's lists of rejected sales and price discrepancies."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path

from kugelpos.common.auth.access import ADMIN, MANAGER, SERVICE, allow
from kugelpos.common.auth.principal import Principal
from kugelpos.common.envelope import ApiResponse, ok
from kugelpos.common.errors import PermissionDeniedError
from kugelpos.common.offline_numbers import NumberRange
from kugelpos.common.pagination import PageParams, page_params

from ..dependencies import OfflineIntakeDep, OfflineNumbersDep, Terminal
from .base import Till
from .documents import OfflineBlockDocument
from .schemas import (
    BlockRequest,
    BlockResponse,
    BlockUsage,
    OfflineBatch,
    OfflineDiscrepancy,
    OfflineRejection,
    OfflineResult,
    Reason,
)

PREFIX = "/api/v1/tenants/{tenant_id}/stores/{store_code}/terminals/{terminal_no}"
router = APIRouter(prefix=PREFIX, tags=["offline"])
type StoreCode = Annotated[str, Path(max_length=64)]
type TerminalNo = Annotated[int, Path(ge=0, le=1_000_000)]
type Internal = Annotated[Principal, Depends(allow(SERVICE, note="the terminal service"))]
type BackOffice = Annotated[Principal, Depends(allow(ADMIN, MANAGER))]


def _block(b: OfflineBlockDocument) -> dict:
    return {
        "block_id": b.block_id,
        "terminal_id": b.terminal_id,
        "transaction_no_from": b.transaction_no_from,
        "transaction_no_to": b.transaction_no_to,
        "receipt_no_from": b.receipt_no_from,
        "receipt_no_to": b.receipt_no_to,
        "created_at": b.created_at.isoformat(),
        "by": b.by,
    }


@router.post("/offline-numbers", response_model=ApiResponse[BlockResponse])
async def reserve_offline_numbers(
    tenant_id: str,
    store_code: StoreCode,
    terminal_no: TerminalNo,
    body: BlockRequest,
    _: Internal,
    offline: OfflineNumbersDep,
) -> ApiResponse[BlockResponse]:
    """Internal: the terminal service's `POST /terminals/{id}/offline-numbers` asks here."""
    block = await offline.reserve(Till(tenant_id, store_code, terminal_no), body.size, body.by)
    return ok(
        BlockResponse(**_block(block)),
        message=f"Offline numbers reserved: {block.transaction_no_from}-{block.transaction_no_to}",
        operation="reserve_offline_numbers",
    )


@router.get("/offline-numbers", response_model=ApiResponse[list[BlockUsage]])
async def list_offline_numbers(
    tenant_id: str,
    store_code: StoreCode,
    terminal_no: TerminalNo,
    _: Internal,
    offline: OfflineNumbersDep,
) -> ApiResponse[list[BlockUsage]]:
    uses = await offline.blocks(Till(tenant_id, store_code, terminal_no))
    data = [
        BlockUsage(
            **_block(u.block),
            used_count=len(u.used),
            unused_count=sum(hi - lo + 1 for lo, hi in u.unused),
            unused=[
                NumberRange(transaction_no_from=lo, transaction_no_to=hi) for lo, hi in u.unused
            ],
        )
        for u in uses
    ]
    return ok(data, message="Offline number blocks", operation="list_offline_numbers")


@router.post("/transactions/offline", response_model=ApiResponse[list[OfflineResult]])
async def upload_offline_transactions(
    tenant_id: str,
    store_code: StoreCode,
    terminal_no: TerminalNo,
    body: OfflineBatch,
    terminal: Terminal,
    offline: OfflineIntakeDep,
) -> ApiResponse[list[OfflineResult]]:
    """The till's sales made offline, up to 500: each `accepted`, `duplicate` or `rejected`
    with a reason (docs/offline.md)."""
    till = Till(tenant_id, store_code, terminal_no)
    if terminal.info.terminal_id != till.terminal_id:
        raise PermissionDeniedError("A terminal may upload only its own offline sales")
    outcomes = await offline.intake(till, body.transactions)
    data = [
        OfflineResult(
            offline_id=o.offline_id,
            status=o.status,  # type: ignore[arg-type]
            transaction_no=o.transaction_no,
            reason=Reason(code=o.code, message=o.message or "") if o.code else None,
        )
        for o in outcomes
    ]
    return ok(data, message="Offline sales taken", operation="upload_offline_transactions")


@router.get("/transactions/offline/rejections", response_model=ApiResponse[list[OfflineRejection]])
async def list_offline_rejections(
    tenant_id: str,
    store_code: StoreCode,
    terminal_no: TerminalNo,
    _: BackOffice,
    offline: OfflineIntakeDep,
    params: Annotated[PageParams, Depends(page_params)],
) -> ApiResponse[list[OfflineRejection]]:
    till = Till(tenant_id, store_code, terminal_no)
    page = await offline.rejections(till, params)
    return ok(
        [OfflineRejection.of(r) for r in page.items],
        message="Rejected offline sales",
        operation="list_offline_rejections",
        metadata=page.metadata(till.key()),
    )


@router.get(
    "/transactions/offline/discrepancies", response_model=ApiResponse[list[OfflineDiscrepancy]]
)
async def list_offline_discrepancies(
    tenant_id: str,
    store_code: StoreCode,
    terminal_no: TerminalNo,
    _: BackOffice,
    offline: OfflineIntakeDep,
    params: Annotated[PageParams, Depends(page_params)],
) -> ApiResponse[list[OfflineDiscrepancy]]:
    till = Till(tenant_id, store_code, terminal_no)
    page = await offline.discrepancies(till, params)
    return ok(
        [OfflineDiscrepancy.of(d) for d in page.items],
        message="Offline price discrepancies",
        operation="list_offline_discrepancies",
        metadata=page.metadata(till.key()),
    )
