"""Terminal error codes (406xxx terminal, 407xxx tenant/store/setup) and their messages."""

from __future__ import annotations

from kugelpos.common.errors import (
    AlreadyExistsError,
    AuthenticationError,
    ExternalServiceError,
    InvalidOperationError,
    NotFoundError,
)
from kugelpos.common.messages import register_messages


class TerminalNotFoundError(NotFoundError):
    code = "406001"


class TerminalAlreadyExistsError(AlreadyExistsError):
    code = "406002"


class TerminalStatusError(InvalidOperationError):
    code = "406003"


class StaffNotFoundError(AuthenticationError):
    code = "406004"

    def __init__(self, message: str = "Staff not found", **kwargs) -> None:
        super().__init__(message, **kwargs)


class InvalidStaffCredentialsError(AuthenticationError):
    code = "406006"

    def __init__(self, message: str = "Invalid staff PIN", **kwargs) -> None:
        super().__init__(message, **kwargs)


class TerminalAlreadyOpenedError(InvalidOperationError):
    code = "406009"


class TerminalAlreadyClosedError(InvalidOperationError):
    code = "406010"


class FunctionModeError(InvalidOperationError):
    code = "406012"


class NotSignedInError(InvalidOperationError):
    code = "406013"


class AlreadySignedInError(InvalidOperationError):
    code = "406014"


class InvalidCashAmountError(InvalidOperationError):
    code = "406102"


class TenantNotFoundError(NotFoundError):
    code = "407001"


class TenantAlreadyExistsError(AlreadyExistsError):
    code = "407002"


class TenantIdCaseConflictError(AlreadyExistsError):
    """The tenant id equals an existing tenant's but for case: their databases would collide
    on MongoDB, which refuses database names that differ only in case."""

    code = "407007"


class StoreNotFoundError(NotFoundError):
    code = "407101"


class StoreAlreadyExistsError(AlreadyExistsError):
    code = "407102"


class StoreDeleteError(InvalidOperationError):
    code = "407104"


class TenantSetupError(ExternalServiceError):
    code = "407201"


class MasterDataError(ExternalServiceError):
    code = "407202"


MESSAGES: dict[str, dict[str, str]] = {
    "406001": {"en": "Terminal not found", "ja": "端末が見つかりません"},
    "406002": {"en": "Terminal already exists", "ja": "端末は既に存在します"},
    "406003": {
        "en": "The terminal is not in a state that allows this operation",
        "ja": "端末の状態によりこの操作はできません",
    },
    "406004": {"en": "Staff not found", "ja": "スタッフが見つかりません"},
    "406005": {"en": "Staff sign-in required", "ja": "サインインが必要です"},
    "406006": {"en": "Invalid staff credentials", "ja": "スタッフの認証に失敗しました"},
    "406007": {"en": "Terminal open failed", "ja": "端末のオープンに失敗しました"},
    "406008": {"en": "Terminal close failed", "ja": "端末のクローズに失敗しました"},
    "406009": {"en": "Terminal is already open", "ja": "端末は既にオープンしています"},
    "406010": {"en": "Terminal is already closed", "ja": "端末は既にクローズしています"},
    "406011": {"en": "Terminal is busy", "ja": "端末は使用中です"},
    "406012": {
        "en": "This function mode is not allowed now",
        "ja": "現在この機能モードには変更できません",
    },
    "406013": {"en": "No staff is signed in", "ja": "スタッフがサインインしていません"},
    "406014": {"en": "A staff member is already signed in", "ja": "既にサインインしています"},
    "406015": {"en": "Staff signed out", "ja": "サインアウトしています"},
    "406101": {"en": "Cash in/out failed", "ja": "入出金に失敗しました"},
    "406102": {"en": "Invalid cash amount", "ja": "金額が不正です"},
    "406103": {"en": "Cash drawer closed", "ja": "ドロワーが閉じています"},
    "406104": {"en": "Amount over maximum", "ja": "金額が上限を超えています"},
    "406105": {"en": "Amount under minimum", "ja": "金額が下限を下回っています"},
    "406106": {"en": "Physical amount mismatch", "ja": "現金残高が一致しません"},
    "407001": {"en": "Tenant not found", "ja": "テナントが見つかりません"},
    "407002": {"en": "Tenant already exists", "ja": "テナントは既に存在します"},
    "407003": {"en": "Tenant update failed", "ja": "テナントの更新に失敗しました"},
    "407004": {"en": "Tenant delete failed", "ja": "テナントの削除に失敗しました"},
    "407005": {"en": "Tenant configuration error", "ja": "テナントの設定エラー"},
    "407006": {"en": "Tenant create failed", "ja": "テナントの作成に失敗しました"},
    "407101": {"en": "Store not found", "ja": "店舗が見つかりません"},
    "407102": {"en": "Store already exists", "ja": "店舗は既に存在します"},
    "407103": {"en": "Store update failed", "ja": "店舗の更新に失敗しました"},
    "407104": {"en": "Store cannot be deleted", "ja": "店舗を削除できません"},
    "407105": {"en": "Store configuration error", "ja": "店舗の設定エラー"},
    "407106": {"en": "Business date error", "ja": "営業日が不正です"},
    "407201": {
        "en": "Tenant setup did not complete in every service; retry",
        "ja": "一部のサービスでテナントの設定が完了していません。再試行してください",
    },
    "407202": {"en": "Master-data service error", "ja": "マスターデータサービスのエラー"},
    "407203": {"en": "Cart service error", "ja": "カートサービスのエラー"},
    "407204": {"en": "Journal service error", "ja": "ジャーナルサービスのエラー"},
    "407205": {"en": "Report service error", "ja": "レポートサービスのエラー"},
    "407301": {"en": "Internal processing error", "ja": "内部処理エラー"},
    "407399": {"en": "Unexpected error", "ja": "予期しないエラー"},
}

register_messages(MESSAGES)
