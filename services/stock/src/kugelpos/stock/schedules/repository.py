"""Schedules (unique per tenant) and job runs (unique per due time: the replicas' lease)."""

from __future__ import annotations

from datetime import datetime

from pymongo import ReturnDocument

from kugelpos.common.db.indexes import index
from kugelpos.common.db.repository import Repository

from .documents import ScheduleDocument, SnapshotRun


class ScheduleRepository(Repository[ScheduleDocument]):
    collection_name = "snapshot_schedules"
    document_type = ScheduleDocument
    indexes = (index("tenant_id", unique=True),)


class SnapshotRunRepository(Repository[SnapshotRun]):
    collection_name = "snapshot_runs"
    document_type = SnapshotRun
    indexes = (index("job_key", unique=True), index("-due_at"))

    async def take_over(self, job_key: str, owner: str, now: datetime, until: datetime):
        """The run of a replica whose lease expired before it finished, or None."""
        raw = await self.collection.find_one_and_update(
            {"job_key": job_key, "status": "running", "lease_until": {"$lt": now}},
            {"$set": {"owner": owner, "lease_until": until, "updated_at": now}},
            projection={"_id": False},
            return_document=ReturnDocument.AFTER,
        )
        return self._load(raw)
