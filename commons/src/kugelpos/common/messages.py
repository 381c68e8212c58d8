"""User-facing messages per error code, English by default and Japanese on request: the common
codes' here, a service's own codes on the error classes that introduce them
(`AppError.messages`)."""

from __future__ import annotations

from collections.abc import Mapping

from .errors import AppError, ErrorCode

DEFAULT_LANGUAGE = "en"

_MESSAGES: dict[str, Mapping[str, str]] = {
    ErrorCode.GENERAL: {"en": "An error occurred", "ja": "エラーが発生しました"},
    ErrorCode.NOT_FOUND: {"en": "Resource not found", "ja": "リソースが見つかりません"},
    ErrorCode.AUTHENTICATION_FAILED: {"en": "Authentication failed", "ja": "認証に失敗しました"},
    ErrorCode.PERMISSION_DENIED: {"en": "Permission denied", "ja": "権限がありません"},
    ErrorCode.TOO_MANY_ATTEMPTS: {
        "en": "Too many attempts, try again later",
        "ja": "試行回数が多すぎます。しばらくしてから再試行してください",
    },
    ErrorCode.INVALID_INPUT: {"en": "Invalid input data", "ja": "入力データが不正です"},
    ErrorCode.REQUIRED_FIELD_MISSING: {
        "en": "A required field is missing",
        "ja": "必須項目が入力されていません",
    },
    ErrorCode.INVALID_FORMAT: {"en": "Invalid field format", "ja": "項目の形式が不正です"},
    ErrorCode.INVALID_OPERATION: {"en": "Invalid operation", "ja": "不正な操作です"},
    ErrorCode.PAYLOAD_TOO_LARGE: {
        "en": "Request body too large",
        "ja": "リクエストが大きすぎます",
    },
    ErrorCode.DATABASE_ERROR: {"en": "Database error", "ja": "データベースエラー"},
    ErrorCode.CANNOT_CREATE: {"en": "Cannot create", "ja": "作成できません"},
    ErrorCode.CANNOT_UPDATE: {"en": "Cannot update", "ja": "更新できません"},
    ErrorCode.CANNOT_DELETE: {"en": "Cannot delete", "ja": "削除できません"},
    ErrorCode.DUPLICATE_KEY: {"en": "Already exists", "ja": "既に存在します"},
    ErrorCode.CONFLICT: {
        "en": "Changed concurrently, please retry",
        "ja": "同時に更新されました。再試行してください",
    },
    ErrorCode.EXTERNAL_SERVICE: {"en": "External service error", "ja": "外部サービスエラー"},
    ErrorCode.SERVICE_UNAVAILABLE: {
        "en": "Service temporarily unavailable",
        "ja": "サービスが一時的に利用できません",
    },
    ErrorCode.SYSTEM_ERROR: {"en": "System error", "ja": "システムエラー"},
    ErrorCode.UNEXPECTED: {"en": "Unexpected error", "ja": "予期しないエラー"},
}


def language_from_header(accept_language: str | None) -> str:
    """`ja` when the client's first preference is Japanese, else English."""
    if not accept_language:
        return DEFAULT_LANGUAGE
    first = accept_language.split(",")[0].split(";")[0].strip().lower()
    return "ja" if first.startswith("ja") else DEFAULT_LANGUAGE


def user_message(code: str, language: str = DEFAULT_LANGUAGE, error: AppError | None = None) -> str:
    """What a user reads for `code`: the texts the raised error's class declares for it (a
    service's own codes), else the common code's, its category's, or the general text."""
    texts = (
        (error.messages_for(code) if error is not None else None)
        or _MESSAGES.get(code)
        or _MESSAGES.get(code[:2] + "0000")
        or _MESSAGES[ErrorCode.GENERAL]
    )
    return texts.get(language) or texts[DEFAULT_LANGUAGE]
