"""Schedules (unique per tenant) and job runs (unique per due time: the replicas' lease)."""

from __future__ import annotations

from kugelpos.common.db.indexes import index
from kugelpos.common.db.repository import Repository
from kugelpos.common.jobs import JOB_RUN_INDEXES

from .documents import ScheduleDocument, SnapshotRun


class ScheduleRepository(Repository[ScheduleDocument]):
    collection_name = "snapshot_schedules"
    document_type = ScheduleDocument
    indexes = (index("tenant_id", unique=True),)


class SnapshotRunRepository(Repository[SnapshotRun]):
    collection_name = "snapshot_runs"
    document_type = SnapshotRun
    indexes = JOB_RUN_INDEXES
