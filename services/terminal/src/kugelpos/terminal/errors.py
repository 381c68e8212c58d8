"""Terminal error codes (406xxx terminal, 407xxx tenant/store/setup) and their messages."""

from __future__ import annotations

from kugelpos.common.errors import (
    AlreadyExistsError,
    AuthenticationError,
    ExternalServiceError,
    InvalidOperationError,
    NotFoundError,
)


class TerminalNotFoundError(NotFoundError):
    code = "406001"
    messages = {"en": "Terminal not found", "ja": "端末が見つかりません"}


class TerminalAlreadyExistsError(AlreadyExistsError):
    code = "406002"
    messages = {"en": "Terminal already exists", "ja": "端末は既に存在します"}


class TerminalStatusError(InvalidOperationError):
    code = "406003"
    messages = {
        "en": "The terminal is not in a state that allows this operation",
        "ja": "端末の状態によりこの操作はできません",
    }


class StaffNotFoundError(AuthenticationError):
    code = "406004"
    messages = {"en": "Staff not found", "ja": "スタッフが見つかりません"}

    def __init__(self, message: str = "Staff not found", **kwargs) -> None:
        super().__init__(message, **kwargs)


class InvalidStaffCredentialsError(AuthenticationError):
    code = "406006"
    messages = {"en": "Invalid staff credentials", "ja": "スタッフの認証に失敗しました"}

    def __init__(self, message: str = "Invalid staff PIN", **kwargs) -> None:
        super().__init__(message, **kwargs)


class TerminalAlreadyOpenedError(InvalidOperationError):
    code = "406009"
    messages = {"en": "Terminal is already open", "ja": "端末は既にオープンしています"}


class TerminalAlreadyClosedError(InvalidOperationError):
    code = "406010"
    messages = {"en": "Terminal is already closed", "ja": "端末は既にクローズしています"}


class FunctionModeError(InvalidOperationError):
    code = "406012"
    messages = {
        "en": "This function mode is not allowed now",
        "ja": "現在この機能モードには変更できません",
    }


class NotSignedInError(InvalidOperationError):
    code = "406013"
    messages = {"en": "No staff is signed in", "ja": "スタッフがサインインしていません"}


class AlreadySignedInError(InvalidOperationError):
    code = "406014"
    messages = {"en": "A staff member is already signed in", "ja": "既にサインインしています"}


class InvalidCashAmountError(InvalidOperationError):
    code = "406102"
    messages = {"en": "Invalid cash amount", "ja": "金額が不正です"}


class TenantNotFoundError(NotFoundError):
    code = "407001"
    messages = {"en": "Tenant not found", "ja": "テナントが見つかりません"}


class TenantAlreadyExistsError(AlreadyExistsError):
    code = "407002"
    messages = {"en": "Tenant already exists", "ja": "テナントは既に存在します"}


class TenantIdCaseConflictError(AlreadyExistsError):
    """The tenant id equals an existing tenant's but for case: their databases would collide
    on MongoDB, which refuses database names that differ only in case."""

    code = "407007"
    messages = {
        "en": "A tenant with this id in another case already exists",
        "ja": "大文字・小文字だけが異なるテナントIDが既に存在します",
    }


class StoreNotFoundError(NotFoundError):
    code = "407101"
    messages = {"en": "Store not found", "ja": "店舗が見つかりません"}


class StoreAlreadyExistsError(AlreadyExistsError):
    code = "407102"
    messages = {"en": "Store already exists", "ja": "店舗は既に存在します"}


class StoreDeleteError(InvalidOperationError):
    code = "407104"
    messages = {"en": "Store cannot be deleted", "ja": "店舗を削除できません"}


class TenantSetupError(ExternalServiceError):
    code = "407201"
    messages = {
        "en": "Tenant setup did not complete in every service; retry",
        "ja": "一部のサービスでテナントの設定が完了していません。再試行してください",
    }


class MasterDataError(ExternalServiceError):
    code = "407202"
    messages = {"en": "Master-data service error", "ja": "マスターデータサービスのエラー"}


class OfflineSessionMismatchError(InvalidOperationError):
    """An offline session upload names a session that is not this terminal's open one (nor the
    one it closed offline, for a resent close)."""

    code = "406301"
    status = 409
    messages = {
        "en": "The session is not this terminal's open session",
        "ja": "このセッションは端末の開局中のセッションではありません",
    }


class OfflineCloseWaitsForSalesError(InvalidOperationError):
    """A close taken offline is applied after its sales: fewer have arrived than it counts."""

    code = "406302"
    status = 409
    messages = {
        "en": "The close counts more sales than have arrived; upload the sales first",
        "ja": "締めの取引件数に対し取引が未着です。先に取引を送信してください",
    }


class OfflineCloseCountError(InvalidOperationError):
    """The cart recorded more sales for the session than the till's close counts."""

    code = "406303"
    messages = {
        "en": "The close counts fewer sales than the cart recorded for the session",
        "ja": "締めの取引件数が記録された取引より少なくなっています",
    }


# --- offline selling (issue 27): 4062xx -----------------------------------------------------


class OfflineBlockSizeError(InvalidOperationError):
    """A block of offline numbers holds 1..1,000 numbers."""

    code = "406201"
    status = 400
    messages = {
        "en": "Invalid size of a block of offline numbers (1 to 1,000)",
        "ja": "オフライン番号の予約数が不正です (1〜1,000)",
    }


class OfflineNumbersUnavailableError(ExternalServiceError):
    """The cart, which keeps the counters, did not reserve the block (down, or refused)."""

    code = "406202"
    messages = {
        "en": "Offline numbers could not be reserved; try again",
        "ja": "オフライン番号を予約できませんでした。再試行してください",
    }
