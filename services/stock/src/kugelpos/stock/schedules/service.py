"""Snapshot schedule API rules (§B8) and one job run (§B9)."""

from __future__ import annotations

from kugelpos.common.clock import utcnow
from kugelpos.common.db.mongo import Mongo
from kugelpos.common.errors import InvalidInputError

from ..config import StockSettings
from ..snapshots.repository import ensure_retention
from .documents import ScheduleDocument
from .repository import ScheduleRepository
from .schemas import ALL_STORES, SnapshotScheduleCreate, SnapshotScheduleResponse
from .timing import cron_expression, next_run


def default_schedule(settings: StockSettings, tenant_id: str) -> ScheduleDocument:
    """What a tenant without a stored schedule runs (not persisted)."""
    return ScheduleDocument(
        tenant_id=tenant_id,
        enabled=settings.default_snapshot_enabled,
        schedule_interval=settings.default_snapshot_interval,
        schedule_hour=settings.default_snapshot_hour,
        schedule_minute=settings.default_snapshot_minute,
        retention_days=settings.default_snapshot_retention_days,
        target_stores=[ALL_STORES],
        created_by="system",
        updated_by="system",
        updated_at=utcnow(),
    )


def expression_of(schedule: ScheduleDocument) -> str:
    return cron_expression(
        schedule.schedule_interval,
        schedule.schedule_hour,
        schedule.schedule_minute,
        schedule.schedule_day_of_week,
        schedule.schedule_day_of_month,
    )


class ScheduleService:
    def __init__(self, mongo: Mongo, settings: StockSettings) -> None:
        self._mongo = mongo
        self._settings = settings

    def _repo(self, tenant_id: str, actor: str | None = None) -> ScheduleRepository:
        return ScheduleRepository(self._mongo.tenant_db(tenant_id), actor=actor)

    def response(self, doc: ScheduleDocument) -> SnapshotScheduleResponse:
        upcoming = (
            next_run(expression_of(doc), utcnow(), self._settings.timezone) if doc.enabled else None
        )
        return SnapshotScheduleResponse(
            **doc.model_dump(exclude={"created_by", "updated_by"}),
            next_execution_at=upcoming,
            created_by=doc.created_by or "system",
            updated_by=doc.updated_by or doc.created_by or "system",
        )

    async def stored(self, tenant_id: str) -> ScheduleDocument | None:
        return await self._repo(tenant_id).find_one({"tenant_id": tenant_id})

    async def effective(self, tenant_id: str) -> ScheduleDocument:
        return await self.stored(tenant_id) or default_schedule(self._settings, tenant_id)

    async def put(
        self, tenant_id: str, body: SnapshotScheduleCreate, actor: str
    ) -> ScheduleDocument:
        low = self._settings.min_snapshot_retention_days
        high = self._settings.max_snapshot_retention_days
        if not low <= body.retention_days <= high:
            raise InvalidInputError(f"retention_days must be between {low} and {high}")
        repo = self._repo(tenant_id, actor)
        await ScheduleRepository.ensure_indexes(repo.db)
        now = utcnow()
        values = body.model_dump()
        await repo.collection.update_one(
            {"tenant_id": tenant_id},
            {
                "$set": {**values, "updated_at": now, "updated_by": actor},
                "$setOnInsert": {
                    "tenant_id": tenant_id,
                    "created_at": now,
                    "created_by": actor,
                    "last_executed_at": None,
                },
            },
            upsert=True,
        )
        if body.enabled:
            await ensure_retention(repo.db, body.retention_days)
        doc = await repo.find_one({"tenant_id": tenant_id})
        assert doc is not None
        return doc

    async def delete(self, tenant_id: str) -> None:
        await self._repo(tenant_id).delete({"tenant_id": tenant_id})
