"""The change log's daily compaction: once a day per tenant (commons.jobs: one replica runs
it), the entries older than `CHANGE_LOG_RETENTION_DAYS` that a later entry of the same record
replaced are deleted (`ChangeLogRepository.compact`). The log then grows with the records and
the changes of the retention period, not with every change ever made; deltas and prices in
force since the retention horizon are answered as before. Running a day's compaction again
deletes nothing more, so a run taken over from a dead replica is safe."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from kugelpos.common.db.mongo import Mongo
from kugelpos.common.jobs import DailyJob

from ..config import MasterDataSettings
from .repository import ChangeLogRepository, CompactionRunRepository


class ChangeLogCompaction(DailyJob):
    name = "change_log_compaction"
    runs = CompactionRunRepository

    def __init__(self, mongo: Mongo, settings: MasterDataSettings) -> None:
        super().__init__(
            mongo,
            service="master-data",
            timezone=settings.timezone,
            run_hour=settings.compaction_run_hour,
            poll_seconds=settings.compaction_poll_seconds,
            lease_seconds=settings.compaction_lease_seconds,
            enabled=settings.compaction_scheduler_enabled
            and settings.change_log_retention_days > 0,
        )
        self._retention = timedelta(days=settings.change_log_retention_days)

    async def work(self, tenant_id: str, now: datetime) -> dict[str, Any]:
        before = now - self._retention
        deleted = await ChangeLogRepository(self._mongo.tenant_db(tenant_id)).compact(before)
        return {"deleted_entries": deleted, "before": before}
