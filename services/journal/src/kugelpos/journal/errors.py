"""Journal error codes (410xxx journal, 411xxx texts/export; report-journal-events §2.7)."""

from __future__ import annotations

from kugelpos.common.errors import (
    AlreadyExistsError,
    BadRequestError,
    DatabaseError,
    NotFoundError,
)
from kugelpos.common.messages import register_messages


class JournalNotFoundError(NotFoundError):
    code = "410001"


class JournalValidationError(BadRequestError):
    """The request contradicts itself (body vs path) or the rules of an entry."""

    code = "410002"


class JournalCreationError(DatabaseError):
    code = "410003"


class JournalQueryError(DatabaseError):
    code = "410004"


class JournalFormatError(BadRequestError):
    """A query value of the wrong shape or out of range (sort, limit, keywords...)."""

    code = "410005"


class JournalDateError(BadRequestError):
    code = "410006"


class TransactionValidationError(BadRequestError):
    code = "410105"


class TransactionConflictError(AlreadyExistsError):
    """Another log under a natural key (store, terminal, transaction number) already received:
    refused (409), never taken for a duplicate of the first."""

    code = "410106"


class ExportError(DatabaseError):
    code = "411003"


MESSAGES: dict[str, dict[str, str]] = {
    "410001": {"en": "Journal entry not found", "ja": "ジャーナルが見つかりません"},
    "410002": {"en": "Invalid journal data", "ja": "ジャーナルのデータが不正です"},
    "410003": {"en": "Journal entry could not be created", "ja": "ジャーナルを作成できません"},
    "410004": {"en": "Journal search failed", "ja": "ジャーナルの検索に失敗しました"},
    "410005": {"en": "Invalid format", "ja": "形式が不正です"},
    "410006": {"en": "Invalid date", "ja": "日付が不正です"},
    "410007": {"en": "Journal data error", "ja": "ジャーナルのデータエラー"},
    "410101": {"en": "Terminal not found", "ja": "端末が見つかりません"},
    "410102": {"en": "Store not found", "ja": "店舗が見つかりません"},
    "410103": {"en": "Logs missing", "ja": "ログがありません"},
    "410104": {"en": "Log sequence error", "ja": "ログの順序が不正です"},
    "410105": {"en": "Invalid transaction", "ja": "取引データが不正です"},
    "410106": {
        "en": "A different transaction with this number was received already",
        "ja": "この番号の別の取引を受信済みです",
    },
    "411001": {"en": "Receipt generation failed", "ja": "レシートの生成に失敗しました"},
    "411002": {"en": "Journal text error", "ja": "ジャーナルテキストのエラー"},
    "411003": {"en": "Export failed", "ja": "エクスポートに失敗しました"},
    "411004": {"en": "Import failed", "ja": "インポートに失敗しました"},
    "411005": {"en": "Transaction receipt error", "ja": "取引レシートのエラー"},
    "411006": {"en": "External service error", "ja": "外部サービスのエラー"},
}

register_messages(MESSAGES)
