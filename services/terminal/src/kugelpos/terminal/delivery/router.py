"""`POST /api/v1/terminals/{terminal_id}/delivery-status`: a consumer reports how it handled
an event. Accepts a service token of the terminal's tenant, or the notify key (only here)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from kugelpos.common.auth.dependencies import ensure_tenant, get_notifier
from kugelpos.common.auth.principal import Principal
from kugelpos.common.envelope import ApiResponse, ok
from kugelpos.common.errors import NotFoundError
from kugelpos.common.events.publisher import (
    DeliveryStatusUpdateRequest,
    DeliveryStatusUpdateResponse,
)

from ..dependencies import OutboxDep
from ..terminals.documents import tenant_of

router = APIRouter(prefix="/api/v1/terminals", tags=["delivery"])


@router.post(
    "/{terminal_id}/delivery-status", response_model=ApiResponse[DeliveryStatusUpdateResponse]
)
async def update_delivery_status(
    terminal_id: str,
    body: DeliveryStatusUpdateRequest,
    notifier: Annotated[Principal | None, Depends(get_notifier)],
    outbox: OutboxDep,
) -> ApiResponse[DeliveryStatusUpdateResponse]:
    if notifier is not None:
        ensure_tenant(notifier, tenant_of(terminal_id))
    record = await outbox.get(body.event_id)
    if record is None or record.keys.get("terminal_id") != terminal_id:
        raise NotFoundError(f"Event {body.event_id} not found for terminal {terminal_id}")
    updated = await outbox.acknowledge(body.event_id, body.service, body.status, body.message)
    return ok(
        DeliveryStatusUpdateResponse(
            event_id=body.event_id,
            service=body.service,
            status=body.status,
            overall_status=updated.status.value if updated else None,
        ),
        message=f"Delivery Status Updated. terminal_id: {terminal_id}, "
        f"event_id: {body.event_id}, service: {body.service}, status: {body.status}",
        operation="update_delivery_status",
    )
