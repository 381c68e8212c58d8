"""`POST /api/v1/tenants/{tenant_id}/stores/{store_code}/terminals/{terminal_no}/transactions`,
the direct transaction intake (§2.5 (7)) as journal and report serve it: through the service's
event consumer (`web.app.get_event_consumer`), with the service's own error codes.

Only the cart writes the books: the intake takes a log from a service token (a service
re-sending what the cart recorded) or from a tenant admin importing logs, which is audited (a
warning naming the admin and the log); a till, a clerk or a manager gets 403 and nothing is
written. The normal path is the `tranlog_report` event.

No `from __future__ import annotations` here: FastAPI must see the route's `Depends(...)` of
the factory's arguments as objects, not as strings naming local variables."""

from typing import Annotated

import structlog
from fastapi import APIRouter, Depends, status

from ..auth.access import ADMIN, SERVICE, allow
from ..auth.principal import Principal, PrincipalKind
from ..auth.store_scope import StoreCode, TerminalNo, tenant_access
from ..envelope import ApiResponse, ok
from ..errors import AppError
from ..events.consumer import EventConsumer
from ..events.intake import TransactionIntake
from ..events.logs import TransactionLog
from ..schemas import ApiModel, TenantId
from .app import get_event_consumer

log = structlog.get_logger(__name__)

intake_access = allow(ADMIN, SERVICE, source=tenant_access, note="an admin's import is audited")


class TranResponse(ApiModel):
    tenant_id: str
    store_code: str
    terminal_no: int
    transaction_no: int


def transaction_intake_router(
    *,
    invalid: type[AppError],
    not_stored: tuple[type[AppError], str],
    conflict: type[AppError],
) -> APIRouter:
    """`invalid`, `not_stored`, `conflict`: the service's errors (`events.intake`)."""
    router = APIRouter(prefix="/api/v1/tenants", tags=["transactions"])

    async def get_intake(
        consumer: Annotated[EventConsumer, Depends(get_event_consumer)],
    ) -> TransactionIntake:
        return TransactionIntake(
            consumer, invalid=invalid, not_stored=not_stored, conflict=conflict
        )

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
        principal: Annotated[Principal, Depends(intake_access)],
        intake: Annotated[TransactionIntake, Depends(get_intake)],
    ) -> ApiResponse[TranResponse]:
        applied = await intake.receive(tenant_id, store_code, terminal_no, body)
        if principal.kind is PrincipalKind.USER:
            log.warning(
                "transaction_imported",
                by=principal.username,
                tenant_id=tenant_id,
                natural_key=body.natural_key(),
                transaction_type=body.transaction_type,
                result=applied.value,
            )
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

    return router
