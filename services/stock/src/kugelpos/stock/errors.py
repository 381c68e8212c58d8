"""Stock error codes (spec §B10) and their user-facing texts."""

from __future__ import annotations

from kugelpos.common.errors import (
    AlreadyExistsError,
    BadRequestError,
    ConflictError,
    NotFoundError,
)


class StockErrorCode:
    STOCK_NOT_FOUND = "414001"
    SNAPSHOT_NOT_FOUND = "414202"
    RECEIPT_ALREADY_RECEIVED = "414401"
    RECEIPT_NOT_FOUND = "414402"
    COUNT_NOT_FOUND = "414501"
    COUNT_CLOSED = "414502"
    COUNT_ALREADY_OPEN = "414503"
    COUNT_ITEM_NOT_COVERED = "414504"
    COUNT_CATEGORY_EMPTY = "414505"
    TRANSFER_NOT_FOUND = "414601"
    TRANSFER_SAME_STORE = "414602"
    TRANSFER_CLOSED = "414603"
    TRANSFER_BAD_RECEIPT = "414604"
    UNKNOWN_ITEMS = "414701"


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


class CountNotFoundError(NotFoundError):
    code = StockErrorCode.COUNT_NOT_FOUND
    messages = {"en": "Count not found", "ja": "棚卸が見つかりません"}


class CountClosedError(ConflictError):
    """Lines, a post or a cancel of a count already posted or cancelled (409, no effect)."""

    code = StockErrorCode.COUNT_CLOSED
    messages = {"en": "Count is closed", "ja": "棚卸は締め済みです"}


class CountAlreadyOpenError(ConflictError):
    """A store counts one count at a time (two could correct one item twice)."""

    code = StockErrorCode.COUNT_ALREADY_OPEN
    messages = {"en": "A count is already open", "ja": "棚卸が既に開始されています"}


class CountItemNotCoveredError(BadRequestError):
    code = StockErrorCode.COUNT_ITEM_NOT_COVERED
    messages = {"en": "Item is not in this count", "ja": "この棚卸の対象外の商品です"}


class CountCategoryEmptyError(BadRequestError):
    """A count by categories whose categories hold no active item in the item master, or
    more than a count covers (10,000)."""

    code = StockErrorCode.COUNT_CATEGORY_EMPTY
    messages = {
        "en": "The categories give no items to count",
        "ja": "指定カテゴリに棚卸対象の商品がありません",
    }


class TransferNotFoundError(NotFoundError):
    code = StockErrorCode.TRANSFER_NOT_FOUND
    messages = {"en": "Transfer not found", "ja": "移動が見つかりません"}


class TransferSameStoreError(BadRequestError):
    code = StockErrorCode.TRANSFER_SAME_STORE
    messages = {"en": "A transfer needs two stores", "ja": "同じ店舗間の移動はできません"}


class TransferClosedError(ConflictError):
    """A receipt of a transfer received or cancelled, or a cancel after a receipt (409)."""

    code = StockErrorCode.TRANSFER_CLOSED
    messages = {
        "en": "Transfer cannot change in its state",
        "ja": "この状態の移動は変更できません",
    }


class TransferBadReceiptError(BadRequestError):
    """A received line of an item not shipped, or beyond what is still in transit."""

    code = StockErrorCode.TRANSFER_BAD_RECEIPT
    messages = {
        "en": "Received lines do not match the transfer",
        "ja": "受領明細が移動と一致しません",
    }


class UnknownItemsError(BadRequestError):
    """A back-office request (adjustment, receipt, count, transfer) naming items the tenant's
    item master (master-data) does not hold as active items: nothing written."""

    code = StockErrorCode.UNKNOWN_ITEMS
    messages = {"en": "Unknown items", "ja": "商品マスタにない商品です"}
