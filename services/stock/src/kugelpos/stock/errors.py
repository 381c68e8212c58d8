"""Stock error codes (spec §B10) and their user-facing texts."""

from __future__ import annotations

from kugelpos.common.errors import NotFoundError


class StockErrorCode:
    STOCK_NOT_FOUND = "414001"
    SNAPSHOT_NOT_FOUND = "414202"


class StockNotFoundError(NotFoundError):
    code = StockErrorCode.STOCK_NOT_FOUND
    messages = {"en": "Stock not found", "ja": "在庫が見つかりません"}


class SnapshotNotFoundError(NotFoundError):
    code = StockErrorCode.SNAPSHOT_NOT_FOUND
    messages = {"en": "Snapshot not found", "ja": "スナップショットが見つかりません"}
