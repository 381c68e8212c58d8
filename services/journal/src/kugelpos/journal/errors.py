"""Journal error codes (410xxx journal, 411xxx texts/export; report-journal-events §2.7)."""

from __future__ import annotations

from kugelpos.common.errors import (
    AlreadyExistsError,
    BadRequestError,
    DatabaseError,
    NotFoundError,
)


class JournalNotFoundError(NotFoundError):
    code = "410001"
    messages = {"en": "Journal entry not found", "ja": "ジャーナルが見つかりません"}


class JournalValidationError(BadRequestError):
    """The request contradicts itself (body vs path) or the rules of an entry."""

    code = "410002"
    messages = {"en": "Invalid journal data", "ja": "ジャーナルのデータが不正です"}


class JournalCreationError(DatabaseError):
    code = "410003"
    messages = {"en": "Journal entry could not be created", "ja": "ジャーナルを作成できません"}


class JournalQueryError(DatabaseError):
    code = "410004"
    messages = {"en": "Journal search failed", "ja": "ジャーナルの検索に失敗しました"}


class JournalFormatError(BadRequestError):
    """A query value of the wrong shape or out of range (sort, limit, keywords...)."""

    code = "410005"
    messages = {"en": "Invalid format", "ja": "形式が不正です"}


class JournalDateError(BadRequestError):
    code = "410006"
    messages = {"en": "Invalid date", "ja": "日付が不正です"}


class TransactionValidationError(BadRequestError):
    code = "410105"
    messages = {"en": "Invalid transaction", "ja": "取引データが不正です"}


class TransactionConflictError(AlreadyExistsError):
    """Another log under a natural key (store, terminal, transaction number) already received:
    refused (409), never taken for a duplicate of the first."""

    code = "410106"
    messages = {
        "en": "A different transaction with this number was received already",
        "ja": "この番号の別の取引を受信済みです",
    }


class ExportError(DatabaseError):
    code = "411003"
    messages = {"en": "Export failed", "ja": "エクスポートに失敗しました"}
