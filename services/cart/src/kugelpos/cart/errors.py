"""Cart error codes (401xxx cart, 4011xx offline selling, 402xxx items and discounts, 403xxx
payments, 404xxx terminal/internal) as subclasses of the commons hierarchy, so the web handlers
turn them into the envelope with the right HTTP status and a localized user message.

Codes and statuses follow the spec's §16 table, with the §18 fixes: invalid discount types and
percentages are 400 (not 500), and three payment-master refusals get codes of their own
(403007-403009) because the v1 service never checked those flags. 403010/403011 are the cash
ceilings (a tender, the change) that v1 did not have.
"""

from __future__ import annotations

from kugelpos.common.errors import (
    AppError,
    BadRequestError,
    ErrorCode,
    InvalidOperationError,
    NotFoundError,
)


class CartErrorCode:
    CART_NOT_FOUND = "401002"
    CART_SAVE_FAILED = "401003"
    TRANSACTION_TYPE_NOT_ALLOWED = "401004"
    ITEM_NOT_FOUND = "402001"
    AMOUNT_LESS_THAN_DISCOUNT = "402002"
    BALANCE_LESS_THAN_DISCOUNT = "402003"
    DISCOUNT_ALLOCATION_FAILED = "402004"
    DISCOUNT_RESTRICTED = "402005"
    BALANCE_ZERO = "403001"
    BALANCE_GREATER_THAN_ZERO = "403002"
    BALANCE_MINUS = "403003"
    DEPOSIT_OVER_BALANCE = "403004"
    ALREADY_VOIDED = "403005"
    ALREADY_REFUNDED = "403006"
    PAYMENT_METHOD_INACTIVE = "403007"
    PAYMENT_LIMIT_EXCEEDED = "403008"
    REFUND_NOT_ALLOWED = "403009"
    CASH_TENDER_OVER_LIMIT = "403010"
    CASH_CHANGE_OVER_LIMIT = "403011"
    RETURN_QUANTITY_EXCEEDED = "403012"
    RETURN_LINE_NOT_RETURNABLE = "403013"
    RETURN_APPROVAL_REQUIRED = "403014"
    RETURN_APPROVAL_REFUSED = "403015"
    RETURN_PRICE_ABOVE_STORE_PRICE = "403016"
    BLIND_RETURN_OVER_LIMIT = "403017"
    STORED_VALUE_LINE = "403018"
    STORED_VALUE_SPENT = "403019"
    STORED_VALUE_NOT_RETURNABLE = "403020"
    TERMINAL_STATUS = "404001"
    SIGN_IN_OUT = "404002"
    INTERNAL = "404004"
    # Offline selling (issue 27): 4011xx. The batch and block refusals are envelopes; the
    # others are the `reason.code` of a rejected offline sale (never an envelope).
    OFFLINE_LINE_AMOUNT = "401101"
    OFFLINE_SUBTOTAL_DISCOUNT = "401102"
    OFFLINE_TAX = "401103"
    OFFLINE_TOTAL = "401104"
    OFFLINE_PAYMENT = "401105"
    OFFLINE_NUMBER_OUTSIDE_BLOCK = "401106"
    OFFLINE_NUMBER_USED = "401107"
    OFFLINE_UNKNOWN_SESSION = "401108"
    OFFLINE_MALFORMED = "401109"
    OFFLINE_BATCH_TOO_LARGE = "401110"
    OFFLINE_BLOCK_SIZE = "401111"
    OFFLINE_SESSIONS_UNAVAILABLE = "401112"
    OFFLINE_STORED_VALUE = "401113"


class CartError(AppError):
    """Base of the cart's own errors (a 4xx unless a subclass says otherwise)."""

    status = 400


# --- cart (401) -------------------------------------------------------------------------


class CartNotFoundError(NotFoundError):
    code = CartErrorCode.CART_NOT_FOUND
    messages = {"en": "Cart not found", "ja": "カートが見つかりません"}


class CartSaveError(CartError):
    code = CartErrorCode.CART_SAVE_FAILED
    messages = {"en": "Failed to save cart", "ja": "カートの保存に失敗しました"}
    status = 500


class TransactionTypeNotAllowedError(CartError):
    """A cart is a sale (101): returns and voids are made only through their own endpoints,
    against the transaction they undo."""

    code = CartErrorCode.TRANSACTION_TYPE_NOT_ALLOWED
    messages = {
        "en": "A cart is a sale; returns and voids have their own endpoints",
        "ja": "カートは売上取引のみです。返品・取消は専用の操作で行ってください",
    }


# --- state machine and input (300xxx, 100001) --------------------------------------------


class InvalidCartOperationError(InvalidOperationError):
    """The operation is not allowed in the cart's state (spec §4: 400 / 300004)."""


class CartValidationError(BadRequestError):
    """Malformed value in an otherwise well-formed request (400 / 300001)."""

    code = ErrorCode.INVALID_INPUT


class LineItemNotFoundError(NotFoundError):
    """`lineNo` outside 1..N (spec §18.10; v1 answered 500 or edited the wrong line)."""


class TaxCodeNotFoundError(NotFoundError):
    """A line's tax code is missing from the tax master (spec §5.3: 404 / 100001)."""


# --- items and discounts (402) -------------------------------------------------------------


class ItemNotFoundError(NotFoundError):
    code = CartErrorCode.ITEM_NOT_FOUND
    messages = {"en": "Item not found", "ja": "対象商品が見つかりません"}


class AmountLessThanDiscountError(CartError):
    code = CartErrorCode.AMOUNT_LESS_THAN_DISCOUNT
    messages = {"en": "Amount is less than discount", "ja": "値引金額が商品金額より多いです"}


class BalanceLessThanDiscountError(CartError):
    code = CartErrorCode.BALANCE_LESS_THAN_DISCOUNT
    messages = {"en": "Balance is less than discount", "ja": "値引金額が残高より多いです"}


class DiscountAllocationError(CartError):
    code = CartErrorCode.DISCOUNT_ALLOCATION_FAILED
    messages = {"en": "Discount allocation error", "ja": "値引の按分処理に失敗しました"}


class DiscountRestrictedError(CartError):
    code = CartErrorCode.DISCOUNT_RESTRICTED
    messages = {"en": "Discount restriction", "ja": "値引禁止商品です"}


# --- payments (403) -----------------------------------------------------------------------


class BalanceZeroError(CartError):
    code = CartErrorCode.BALANCE_ZERO
    messages = {"en": "Balance is already zero", "ja": "残高はすでに０です"}
    status = 406


class BalanceGreaterThanZeroError(CartError):
    code = CartErrorCode.BALANCE_GREATER_THAN_ZERO
    messages = {"en": "Balance is greater than zero", "ja": "残高が残っています"}
    status = 406


class BalanceMinusError(CartError):
    code = CartErrorCode.BALANCE_MINUS
    messages = {"en": "Balance is minus", "ja": "残高がマイナスです"}
    status = 406


class DepositOverBalanceError(CartError):
    code = CartErrorCode.DEPOSIT_OVER_BALANCE
    messages = {"en": "Deposit amount is more than balance", "ja": "預かり金額が残高より多いです"}
    status = 406


class AlreadyVoidedError(CartError):
    code = CartErrorCode.ALREADY_VOIDED
    messages = {
        "en": "This transaction has already been voided",
        "ja": "この取引は既に取消済みです",
    }


class AlreadyRefundedError(CartError):
    code = CartErrorCode.ALREADY_REFUNDED
    messages = {
        "en": "This transaction has already been refunded",
        "ja": "この取引は既に返品済みです",
    }


class PaymentMethodInactiveError(CartError):
    code = CartErrorCode.PAYMENT_METHOD_INACTIVE
    messages = {"en": "This payment method is not active", "ja": "この支払方法は使用できません"}


class PaymentLimitExceededError(CartError):
    code = CartErrorCode.PAYMENT_LIMIT_EXCEEDED
    messages = {
        "en": "Amount exceeds the limit of this payment method",
        "ja": "支払方法の上限金額を超えています",
    }


class RefundNotAllowedError(CartError):
    code = CartErrorCode.REFUND_NOT_ALLOWED
    messages = {
        "en": "This payment method cannot be refunded",
        "ja": "この支払方法は返金できません",
    }


class CashTenderOverLimitError(CartError):
    """One cash tender above the tenant's ceiling (`CASH_TENDER_LIMIT`): a mistyped amount or
    a drawer being emptied through a sale."""

    code = CartErrorCode.CASH_TENDER_OVER_LIMIT
    messages = {
        "en": "The cash amount exceeds the limit for one tender",
        "ja": "現金の預かり金額が上限を超えています",
    }


class CashChangeOverLimitError(CartError):
    """Change above the tenant's ceiling (`CASH_CHANGE_LIMIT`)."""

    code = CartErrorCode.CASH_CHANGE_OVER_LIMIT
    messages = {"en": "The change exceeds the limit", "ja": "お釣りが上限を超えています"}


class ReturnQuantityExceededError(CartError):
    """A partial return asks for more units of a line than the sale has left to return
    (its quantity minus what earlier returns took)."""

    code = CartErrorCode.RETURN_QUANTITY_EXCEEDED
    messages = {
        "en": "The return quantity exceeds what is left to return",
        "ja": "返品数量が返品可能数量を超えています",
    }


class ReturnLineNotReturnableError(CartError):
    """A partial return names a line the sale does not have, or a cancelled one."""

    code = CartErrorCode.RETURN_LINE_NOT_RETURNABLE
    messages = {
        "en": "This line cannot be returned",
        "ja": "この明細は返品できません",
    }


class ReturnApprovalRequiredError(CartError):
    """A refund by another tender than the sale's, beyond what was paid with one, or for a
    reason that requires it, needs a manager's approval, and none was sent."""

    code = CartErrorCode.RETURN_APPROVAL_REQUIRED
    messages = {
        "en": "A manager's approval is required for this return",
        "ja": "この返品には責任者の承認が必要です",
    }
    status = 403


class ReturnApprovalRefusedError(CartError):
    """The approval sent is not a manager's, or its PIN is wrong."""

    code = CartErrorCode.RETURN_APPROVAL_REFUSED
    messages = {
        "en": "The approval is not valid",
        "ja": "承認が正しくありません",
    }
    status = 403


class ReturnPriceAboveStorePriceError(CartError):
    """A blind return's `unitPrice` above the item's current store price: a return without a
    receipt refunds at most what the item sells for now."""

    code = CartErrorCode.RETURN_PRICE_ABOVE_STORE_PRICE
    messages = {
        "en": "The return price is above the item's current price",
        "ja": "返品単価が現在の売価を超えています",
    }


class BlindReturnOverLimitError(CartError):
    """A blind return above the tenant's ceiling (`BLIND_RETURN_LIMIT`)."""

    code = CartErrorCode.BLIND_RETURN_OVER_LIMIT
    messages = {
        "en": "The return without a receipt exceeds the limit",
        "ja": "レシートなし返品の上限金額を超えています",
    }


class StoredValueLineError(CartError):
    """A card line broken: an item sold as stored value without a card number, a quantity
    other than 1, a price of 0; a card number on another item; a card line edited."""

    code = CartErrorCode.STORED_VALUE_LINE
    messages = {
        "en": "Invalid gift card line",
        "ja": "ギフトカードの明細が不正です",
    }


class StoredValueSpentError(CartError):
    """A sale that loaded a card cannot be voided once the card has been used."""

    code = CartErrorCode.STORED_VALUE_SPENT
    messages = {
        "en": "A card loaded by this sale has been used; it cannot be voided",
        "ja": "この取引で入金したカードは使用済みのため取消できません",
    }
    status = 409


class StoredValueNotReturnableError(CartError):
    """A card sold is not returned (its money is on the card): void the sale instead."""

    code = CartErrorCode.STORED_VALUE_NOT_RETURNABLE
    messages = {
        "en": "A gift card cannot be returned; void the sale instead",
        "ja": "ギフトカードは返品できません。取引を取消してください",
    }


class StoredValueRefusedError(AppError):
    """The stored-value service refused a card (unknown, wrong PIN, not enough balance,
    blocked...): its own code, status and message are passed on to the till as they came."""

    status = 400


# --- terminal / internal (404) ------------------------------------------------------------


class TerminalStatusError(CartError):
    code = CartErrorCode.TERMINAL_STATUS
    messages = {"en": "Check terminal status", "ja": "端末の状態を確認してください"}


class SignInOutError(CartError):
    code = CartErrorCode.SIGN_IN_OUT
    messages = {"en": "Check sign-in/out status", "ja": "担当者の登録状況を確認してください"}


class CartInternalError(CartError):
    code = CartErrorCode.INTERNAL
    messages = {"en": "Internal processing error occurred", "ja": "内部処理エラーが発生しました"}
    status = 500


# --- offline selling (issue 27) -------------------------------------------------------------


class OfflineBatchTooLargeError(CartError):
    """More than 500 sales in one upload: nothing is taken, the till sends smaller batches."""

    code = CartErrorCode.OFFLINE_BATCH_TOO_LARGE
    messages = {
        "en": "Too many offline sales in one upload (at most 500)",
        "ja": "一度に送信できるオフライン取引は500件までです",
    }


class OfflineBlockSizeError(CartError):
    """A block of offline numbers holds 1..1,000 numbers (and no more than the receipt
    number range)."""

    code = CartErrorCode.OFFLINE_BLOCK_SIZE
    messages = {
        "en": "Invalid size of a block of offline numbers",
        "ja": "オフライン番号の予約数が不正です",
    }


class OfflineSessionsUnavailableError(CartError):
    """The terminal service could not say which sessions the terminal had: nothing of the
    batch is taken (a retry is safe)."""

    code = CartErrorCode.OFFLINE_SESSIONS_UNAVAILABLE
    messages = {
        "en": "The terminal's sessions could not be read; try the upload again",
        "ja": "端末の営業情報を取得できません。再送してください",
    }
    status = 503
