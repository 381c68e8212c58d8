"""Master-data's own error codes (405xxx, the range the v1 code scheme gives master-data)."""

from __future__ import annotations

from kugelpos.common.errors import AppError


class SyncCursorError(AppError):
    """A `since` cursor of the store feed this service did not issue (or for another store)."""

    code = "405001"
    status = 400
    messages = {
        "en": "The sync cursor is not valid; start again with a full snapshot (no since).",
        "ja": "同期カーソルが不正です。since なしの全件取得からやり直してください。",
    }
