"""Report error codes (412xxx reports, 413xxx texts and services; report-journal-events §3.14)."""

from __future__ import annotations

from kugelpos.common.errors import (
    AlreadyExistsError,
    AppError,
    BadRequestError,
    NotFoundError,
    PermissionDeniedError,
)


class ReportNotFoundError(NotFoundError):
    """Unknown report type."""

    code = "412001"
    messages = {"en": "Report type not found", "ja": "レポート種別が見つかりません"}


class ReportGenerationError(AppError):
    code = "412003"
    messages = {"en": "Report generation failed", "ja": "レポートの生成に失敗しました"}
    status = 500


class ReportScopeError(BadRequestError):
    code = "412005"
    messages = {"en": "Invalid report scope", "ja": "レポート範囲が不正です"}


class ReportDateError(BadRequestError):
    code = "412006"
    messages = {"en": "Invalid business date", "ja": "営業日付が不正です"}


class TerminalNotClosedError(PermissionDeniedError):
    code = "412101"
    messages = {"en": "Terminal not closed", "ja": "端末が締められていません"}


class TransactionValidationError(BadRequestError):
    code = "412002"
    messages = {"en": "Invalid report request", "ja": "レポートの要求が不正です"}


class TransactionConflictError(AlreadyExistsError):
    """Another log under a natural key (store, terminal, transaction number) already received:
    refused (409), never taken for a duplicate of the first."""

    code = "412008"
    messages = {
        "en": "A different transaction with this number was received already",
        "ja": "この番号の別の取引を受信済みです",
    }


class ExternalServiceFault(AppError):
    code = "413006"
    messages = {"en": "External service error", "ja": "外部サービスのエラー"}
    status = 500
