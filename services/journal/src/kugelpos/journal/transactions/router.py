"""`POST …/terminals/{terminal_no}/transactions`: direct transaction intake (§2.5 (7))."""

from __future__ import annotations

from fastapi import APIRouter, status

from kugelpos.common.envelope import ApiResponse, ok
from kugelpos.common.events.logs import TransactionLog

from ..dependencies import StoreCode, TenantId, TerminalNo, TransactionIntakeDep, Writer
from .schemas import TranResponse

router = APIRouter(prefix="/api/v1/tenants", tags=["transactions"])


@router.post(
    "/{tenant_id}/stores/{store_code}/terminals/{terminal_no}/transactions",
    status_code=status.HTTP_201_CREATED,
    response_model=ApiResponse[TranResponse],
)
async def receive_transactions(
    tenant_id: TenantId,
    store_code: StoreCode,
    terminal_no: TerminalNo,
    body: TransactionLog,
    principal: Writer,
    intake: TransactionIntakeDep,
) -> ApiResponse[TranResponse]:
    await intake.receive(tenant_id, store_code, terminal_no, body)
    return ok(
        TranResponse(
            tenant_id=body.tenant_id,
            store_code=body.store_code,
            terminal_no=body.terminal_no,
            transaction_no=body.transaction_no,
        ),
        code=201,
        message=(
            f"Transaction received successfully. tenant_id: {tenant_id}, "
            f"store_code: {store_code}, terminal_no: {terminal_no}, "
            f"transaction_no: {body.transaction_no}"
        ),
        operation="receive_transactions",
    )
