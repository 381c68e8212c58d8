"""Stock error codes (spec §B10) and their user-facing texts."""

from __future__ import annotations

from kugelpos.common.errors import AlreadyExistsError, NotFoundError


class StockErrorCode:
    STOCK_NOT_FOUND = "414001"
    SNAPSHOT_NOT_FOUND = "414202"
    RECEIPT_ALREADY_RECEIVED = "414401"
    RECEIPT_NOT_FOUND = "414402"


class StockNotFoundError(NotFoundError):
    code = StockErrorCode.STOCK_NOT_FOUND
    messages = {"en": "Stock not found", "ja": "在庫が見つかりません"}


class SnapshotNotFoundError(NotFoundError):
    code = StockErrorCode.SNAPSHOT_NOT_FOUND
    messages = {"en": "Snapshot not found", "ja": "スナップショットが見つかりません"}


class ReceiptAlreadyReceivedError(AlreadyExistsError):
    """A delivery's reference was already taken in at this store (409, nothing applied)."""

    code = StockErrorCode.RECEIPT_ALREADY_RECEIVED
    messages = {"en": "Receipt already received", "ja": "この入荷は受領済みです"}


class ReceiptNotFoundError(NotFoundError):
    code = StockErrorCode.RECEIPT_NOT_FOUND
    messages = {"en": "Receipt not found", "ja": "入荷が見つかりません"}
