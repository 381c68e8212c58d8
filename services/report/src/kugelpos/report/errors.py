"""Report error codes (412xxx reports, 413xxx texts and services; report-journal-events §3.14)."""

from __future__ import annotations

from kugelpos.common.errors import (
    AlreadyExistsError,
    AppError,
    BadRequestError,
    NotFoundError,
    PermissionDeniedError,
)
from kugelpos.common.messages import register_messages


class ReportNotFoundError(NotFoundError):
    """Unknown report type."""

    code = "412001"


class ReportValidationError(BadRequestError):
    code = "412002"


class ReportGenerationError(AppError):
    code = "412003"
    status = 500


class ReportScopeError(BadRequestError):
    code = "412005"


class ReportDateError(BadRequestError):
    code = "412006"


class TerminalNotClosedError(PermissionDeniedError):
    code = "412101"


class TransactionValidationError(BadRequestError):
    code = "412002"


class TransactionConflictError(AlreadyExistsError):
    """Another log under a natural key (store, terminal, transaction number) already received:
    refused (409), never taken for a duplicate of the first."""

    code = "412008"


class ExternalServiceFault(AppError):
    code = "413006"
    status = 500


MESSAGES: dict[str, dict[str, str]] = {
    "412001": {"en": "Report type not found", "ja": "レポート種別が見つかりません"},
    "412002": {"en": "Invalid report request", "ja": "レポートの要求が不正です"},
    "412003": {"en": "Report generation failed", "ja": "レポートの生成に失敗しました"},
    "412004": {"en": "Invalid report type", "ja": "レポート種別が不正です"},
    "412005": {"en": "Invalid report scope", "ja": "レポート範囲が不正です"},
    "412006": {"en": "Invalid business date", "ja": "営業日付が不正です"},
    "412007": {"en": "Report data error", "ja": "レポートのデータエラー"},
    "412008": {
        "en": "A different transaction with this number was received already",
        "ja": "この番号の別の取引を受信済みです",
    },
    "412101": {"en": "Terminal not closed", "ja": "端末が締められていません"},
    "412102": {"en": "Logs missing", "ja": "ログがありません"},
    "412103": {"en": "Log count mismatch", "ja": "ログの件数が一致しません"},
    "412104": {"en": "Transaction logs missing", "ja": "取引ログがありません"},
    "412105": {"en": "Cash in/out logs missing", "ja": "入出金ログがありません"},
    "412106": {"en": "Open/close log missing", "ja": "開設・精算ログがありません"},
    "412107": {"en": "Verification failed", "ja": "検証に失敗しました"},
    "413001": {"en": "Receipt generation failed", "ja": "レシートの生成に失敗しました"},
    "413002": {"en": "Journal generation failed", "ja": "ジャーナルの生成に失敗しました"},
    "413003": {"en": "Export failed", "ja": "エクスポートに失敗しました"},
    "413004": {"en": "Import failed", "ja": "インポートに失敗しました"},
    "413005": {"en": "Daily info error", "ja": "日次情報のエラー"},
    "413006": {"en": "External service error", "ja": "外部サービスのエラー"},
}

register_messages(MESSAGES)
