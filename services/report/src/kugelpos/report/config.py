"""Report service settings (environment > `.env` > defaults)."""

from __future__ import annotations

from functools import cache

from pydantic import Field

from kugelpos.common.settings import CommonSettings


class ReportSettings(CommonSettings):
    service_name: str = "report"
    db_name_prefix: str = "db_report"
    # Master-data names (categories, items, payments) are cached this long per tenant.
    master_names_cache_seconds: float = Field(default=300.0, ge=0, le=86_400)
    # Alternative plugin registry (JSON); empty = the built-in plugins.json.
    report_plugins_file: str = ""


@cache
def get_settings() -> ReportSettings:
    return ReportSettings()
