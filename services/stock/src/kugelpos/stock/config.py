"""Stock service settings (environment > `.env` > defaults)."""

from __future__ import annotations

from functools import cache

from pydantic import Field

from kugelpos.common.settings import CommonSettings


class StockSettings(CommonSettings):
    service_name: str = "stock"
    db_name_prefix: str = "db_stock"

    # Alerts: the same alert for the same item is sent at most once per cooldown, across
    # replicas (the cooldown key lives in the Dapr state store with this TTL).
    alert_cooldown_seconds: int = Field(default=60, ge=1, le=86_400)
    alert_state_store: str = "statestore"

    # The schedule a tenant without a stored one runs (and GET shows).
    default_snapshot_enabled: bool = True
    default_snapshot_interval: str = "daily"
    default_snapshot_hour: int = Field(default=2, ge=0, le=23)
    default_snapshot_minute: int = Field(default=0, ge=0, le=59)
    default_snapshot_retention_days: int = Field(default=30, ge=1)
    min_snapshot_retention_days: int = Field(default=1, ge=1)
    max_snapshot_retention_days: int = Field(default=365, ge=1)

    # Scheduler: how often each replica looks for due jobs, how late a job may still run,
    # and how long a replica holds a job before another may take it over (crash).
    snapshot_scheduler_enabled: bool = True
    # Once a minute: a schedule is per minute, and each poll reads every tenant's schedule.
    snapshot_scheduler_poll_seconds: float = Field(default=60.0, gt=0)
    snapshot_misfire_grace_seconds: int = Field(default=3600, ge=1)
    snapshot_lease_seconds: int = Field(default=300, ge=1)
    # Rows a snapshot reads at most (v1: 10,000).
    snapshot_max_items: int = Field(default=10_000, ge=1)


@cache
def get_settings() -> StockSettings:
    return StockSettings()
