"""Alert frames (v1's snake_case JSON) — pure functions of a stock row."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from kugelpos.common.clock import utcnow

from ..quantities import number
from ..stocks.documents import StockDocument


class AlertType(StrEnum):
    REORDER_POINT = "reorder_point"
    MINIMUM_STOCK = "minimum_stock"


def connected(tenant_id: str, store_code: str) -> dict[str, Any]:
    return {
        "type": "connection",
        "status": "connected",
        "tenant_id": tenant_id,
        "store_code": store_code,
        "message": "Connected to stock alert service",
    }


def alert(kind: AlertType, row: StockDocument, at: datetime | None = None) -> dict[str, Any]:
    message: dict[str, Any] = {
        "type": "stock_alert",
        "alert_type": kind.value,
        "tenant_id": row.tenant_id,
        "store_code": row.store_code,
        "item_code": row.item_code,
        "current_quantity": number(row.current_quantity),
    }
    if kind is AlertType.REORDER_POINT:
        message["reorder_point"] = number(row.reorder_point)
    else:
        message["minimum_quantity"] = number(row.minimum_quantity)
    message["reorder_quantity"] = number(row.reorder_quantity)
    message["timestamp"] = (at or utcnow()).isoformat()
    return message


def has_threshold(row: StockDocument) -> bool:
    """Could any quantity of this row raise an alert? (Not without a minimum or reorder point.)"""
    return row.minimum_units > 0 or row.reorder_point_units > 0


def due_alerts(row: StockDocument) -> list[AlertType]:
    """What an update leaving the row in this state raises (§B7)."""
    kinds = []
    if row.needs_reorder:
        kinds.append(AlertType.REORDER_POINT)
    if row.is_low:
        kinds.append(AlertType.MINIMUM_STOCK)
    return kinds


def cooldown_key(kind: AlertType, row: StockDocument) -> str:
    prefix = "reorder" if kind is AlertType.REORDER_POINT else "minimum"
    # Dapr refuses keys containing "||" (its own prefix separator): with it every save failed
    # and the cooldown never held. The namespace keeps the shared state store's keys apart.
    return f"stock-alert:{prefix}_{row.tenant_id}_{row.store_code}_{row.item_code}"
