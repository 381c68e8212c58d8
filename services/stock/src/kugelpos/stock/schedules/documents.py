"""The stored snapshot schedule of a tenant (one per tenant) and the runs of its jobs."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from kugelpos.common.db.documents import Document
from kugelpos.common.jobs import JobRun


class ScheduleDocument(Document):
    tenant_id: str
    enabled: bool = True
    schedule_interval: str
    schedule_hour: int
    schedule_minute: int = 0
    schedule_day_of_week: int | None = None
    schedule_day_of_month: int | None = None
    retention_days: int = 30
    target_stores: list[str] = Field(default_factory=lambda: ["all"])
    last_executed_at: datetime | None = None


class SnapshotRun(JobRun):
    """One due time of one tenant's job (commons.jobs: whoever inserts it runs it; a runner
    that died is replaced once its lease has expired), and the stores it has done."""

    done_stores: list[str] = Field(default_factory=list)
    failed_stores: list[str] = Field(default_factory=list)
