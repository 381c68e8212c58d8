"""WebSocket `/api/v1/ws/{tenant_id}/{store_code}` (§B7).

The token comes as `Authorization: Bearer <JWT>` on the handshake, or, as v1 clients (and
browsers, which cannot set that header) send it, as `?token=<JWT>`. A URL is what proxies and
servers log, so the header is the better way; the access log masks the query form
(`token=***`) either way."""

from __future__ import annotations

import json

import structlog
from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from kugelpos.common.errors import AppError

from ..dependencies import StockWiringDep
from ..stocks.service import StockService
from .messages import AlertType, alert, connected

log = structlog.get_logger(__name__)
router = APIRouter(tags=["alerts"])
POLICY_VIOLATION = 1008
INTERNAL_ERROR = 1011


def _bearer(header: str | None) -> str | None:
    scheme, _, credentials = (header or "").partition(" ")
    return credentials.strip() or None if scheme.lower() == "bearer" else None


@router.websocket("/api/v1/ws/{tenant_id}/{store_code}")
async def alerts_socket(
    websocket: WebSocket, tenant_id: str, store_code: str, wiring: StockWiringDep
) -> None:
    await websocket.accept()
    token = _bearer(websocket.headers.get("authorization")) or websocket.query_params.get("token")
    if not token:
        await websocket.close(code=POLICY_VIOLATION, reason="No token provided")
        return
    infra = wiring.infra
    try:
        # A terminal's token is checked live, as on every route (deleted or re-keyed: refused).
        principal = await infra.auth.token_principal(token)
    except AppError:
        await websocket.close(code=POLICY_VIOLATION, reason="Authentication failed")
        return
    if principal.tenant_id != tenant_id:
        await websocket.close(code=POLICY_VIOLATION, reason="Tenant ID mismatch")
        return
    try:
        alerts = wiring.alerts
        stocks = StockService(infra.mongo)
        reorder = await stocks.reorder(tenant_id, store_code)
        low = await stocks.low(tenant_id, store_code)
    except Exception:  # the alert machinery (database) is not usable
        log.warning("alert_socket_unavailable", tenant_id=tenant_id, exc_info=True)
        await websocket.close(code=INTERNAL_ERROR, reason="Alert service not available")
        return
    alerts.hub.add(tenant_id, store_code, websocket)
    try:
        await websocket.send_text(json.dumps(connected(tenant_id, store_code)))
        # The current state, to this socket only and outside the cooldown.
        for row in reorder:
            await websocket.send_text(json.dumps(alert(AlertType.REORDER_POINT, row)))
        for row in low:
            await websocket.send_text(json.dumps(alert(AlertType.MINIMUM_STOCK, row)))
        while True:
            frame = await websocket.receive_text()
            if frame == "ping":
                await websocket.send_text("pong")
    except WebSocketDisconnect:
        pass
    except Exception:  # a broken socket ends only this connection
        log.info("alert_socket_closed", tenant_id=tenant_id, store_code=store_code)
    finally:
        alerts.hub.remove(tenant_id, store_code, websocket)
