"""Stored-value error codes (416xxx: 4160xx cards, 4161xx holds, 4162xx loads) and texts."""

from __future__ import annotations

from kugelpos.common.errors import (
    BadRequestError,
    ConflictError,
    InvalidOperationError,
    NotFoundError,
)


class StoredValueErrorCode:
    CARD_NOT_FOUND = "416001"
    CARD_NOT_USABLE = "416002"
    INSUFFICIENT_BALANCE = "416003"
    CARD_NO_INVALID = "416004"
    BALANCE_LIMIT = "416005"
    STATUS_CHANGE_REFUSED = "416006"
    HOLD_NOT_FOUND = "416101"
    HOLD_CLOSED = "416102"
    HOLD_MISMATCH = "416103"
    LOAD_NOT_FOUND = "416201"
    LOAD_MISMATCH = "416202"
    LOAD_SPENT = "416203"


class CardNotFoundError(NotFoundError):
    """No such card, or the PIN does not match: one answer for both, so a till cannot tell a
    number that exists from one that does not."""

    code = StoredValueErrorCode.CARD_NOT_FOUND
    messages = {
        "en": "Card not found or PIN does not match",
        "ja": "カードが見つからないか、暗証番号が一致しません",
    }


class CardNotUsableError(ConflictError):
    """Inactive (never loaded), blocked or expired: nothing may be taken off it."""

    code = StoredValueErrorCode.CARD_NOT_USABLE
    messages = {"en": "The card cannot be used", "ja": "このカードは使用できません"}


class InsufficientBalanceError(InvalidOperationError):
    code = StoredValueErrorCode.INSUFFICIENT_BALANCE
    messages = {"en": "Insufficient card balance", "ja": "カードの残高が不足しています"}


class CardNoInvalidError(BadRequestError):
    """16 digits with a Luhn check digit: a mistyped number is refused before any lookup."""

    code = StoredValueErrorCode.CARD_NO_INVALID
    messages = {"en": "Invalid card number", "ja": "カード番号が不正です"}


class BalanceLimitError(InvalidOperationError):
    code = StoredValueErrorCode.BALANCE_LIMIT
    messages = {
        "en": "The card's balance would exceed its limit",
        "ja": "カードの残高が上限を超えます",
    }


class StatusChangeRefusedError(ConflictError):
    code = StoredValueErrorCode.STATUS_CHANGE_REFUSED
    messages = {
        "en": "The card's status cannot change this way",
        "ja": "カードの状態をこのように変更できません",
    }


class HoldNotFoundError(NotFoundError):
    code = StoredValueErrorCode.HOLD_NOT_FOUND
    messages = {"en": "Hold not found", "ja": "保留が見つかりません"}


class HoldClosedError(ConflictError):
    """Capturing a hold released, or releasing one captured."""

    code = StoredValueErrorCode.HOLD_CLOSED
    messages = {"en": "The hold is already closed", "ja": "この保留は終了しています"}


class HoldMismatchError(ConflictError):
    """A hold id asked for again with another card or amount."""

    code = StoredValueErrorCode.HOLD_MISMATCH
    messages = {
        "en": "A different hold with this id exists",
        "ja": "このIDの別の保留が存在します",
    }


class LoadNotFoundError(NotFoundError):
    code = StoredValueErrorCode.LOAD_NOT_FOUND
    messages = {"en": "Load not found", "ja": "入金が見つかりません"}


class LoadMismatchError(ConflictError):
    """A load id registered again with another card, amount or kind."""

    code = StoredValueErrorCode.LOAD_MISMATCH
    messages = {
        "en": "A different load with this id exists",
        "ja": "このIDの別の入金が存在します",
    }


class LoadSpentError(ConflictError):
    """A sale that loaded a card cannot be voided once the card has been used."""

    code = StoredValueErrorCode.LOAD_SPENT
    messages = {
        "en": "The card loaded by this sale has been used",
        "ja": "この取引で入金したカードは使用済みです",
    }
