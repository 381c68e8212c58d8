"""Journal service settings (environment > `.env` > defaults)."""

from __future__ import annotations

from functools import cache

from pydantic import Field

from kugelpos.common.settings import CommonSettings


class JournalSettings(CommonSettings):
    service_name: str = "journal"
    db_name_prefix: str = "db_journal"
    # Rows fetched per round trip while a CSV export streams.
    csv_batch_size: int = Field(default=500, ge=1, le=10_000)


@cache
def get_settings() -> JournalSettings:
    return JournalSettings()
