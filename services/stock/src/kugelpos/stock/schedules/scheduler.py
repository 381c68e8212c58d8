"""The snapshot scheduler (§B9): every replica polls, exactly one runs each job.

Each poll, for every tenant database (`db_stock_*`): the tenant's schedule (stored, or the
defaults), its latest due time in the app time zone (croniter), and — if that time is within
the misfire grace, not before the schedule was last changed, and not run yet — a claim on the
run: inserting `snapshot_runs` {job_key: snapshot_<tenant>:<due>} (unique, commons
`claim_run`) gives the job to one replica with a lease. A replica that dies mid-run loses its
lease when it expires; the next poll of any replica takes the run over and snapshots only the
stores not done yet.
"""

from __future__ import annotations

import contextlib
import secrets
from datetime import datetime
from typing import Any

import structlog
from pymongo.asynchronous.database import AsyncDatabase

from kugelpos.common.clock import utcnow
from kugelpos.common.db.mongo import Mongo
from kugelpos.common.jobs import Poller, claim_run, finish_run

from ..config import StockSettings
from ..snapshots.repository import ensure_retention
from ..snapshots.service import SnapshotService
from ..stocks.repository import StockRepository
from .documents import ScheduleDocument, SnapshotRun
from .repository import ScheduleRepository, SnapshotRunRepository
from .schemas import ALL_STORES
from .service import ScheduleService, expression_of
from .timing import latest_due

log = structlog.get_logger(__name__)
SCHEDULED_BY = "scheduled_system"


class SnapshotScheduler(Poller):
    check = "snapshot_scheduler"

    def __init__(self, mongo: Mongo, settings: StockSettings) -> None:
        super().__init__(
            poll_seconds=settings.snapshot_scheduler_poll_seconds,
            enabled=settings.snapshot_scheduler_enabled,
        )
        self._settings = settings
        self._mongo = mongo
        # Who holds a run's lease (`snapshot_runs.owner`): tells the replicas apart.
        self.owner = f"stock-{secrets.token_hex(4)}"
        self.runs = 0

    def details(self) -> dict[str, Any]:
        return {"owner": self.owner, "runs": self.runs}

    async def poll(self, now: datetime | None = None) -> int:
        """One look at every tenant; returns how many jobs this replica ran."""
        now = now or utcnow()
        self.last_poll = now
        ran = 0
        schedules = ScheduleService(self._mongo, self._settings)
        for tenant_id in await self._mongo.tenant_ids():
            schedule = await schedules.effective(tenant_id)
            due = self._due(schedule, now)
            if due is not None and await self._run(tenant_id, schedule, due, now):
                ran += 1
        return ran

    def _due(self, schedule: ScheduleDocument, now: datetime) -> datetime | None:
        if not schedule.enabled:
            return None
        due = latest_due(expression_of(schedule), now, self._settings.timezone)
        if (now - due).total_seconds() > self._settings.snapshot_misfire_grace_seconds:
            return None  # missed by more than the grace: wait for the next one
        changed = schedule.updated_at or schedule.created_at
        # A schedule runs from the minute it was set, not for times before it.
        if changed is not None and due < changed.replace(second=0, microsecond=0):
            return None
        if schedule.last_executed_at is not None and schedule.last_executed_at >= due:
            return None
        return due

    async def _claim(
        self, db: AsyncDatabase, tenant_id: str, due: datetime, now: datetime
    ) -> SnapshotRun | None:
        await SnapshotRunRepository.ensure_indexes(db)
        raw = await claim_run(
            SnapshotRunRepository(db).collection,
            f"snapshot_{tenant_id}:{due.isoformat()}",
            tenant_id=tenant_id,
            due_at=due,
            owner=self.owner,
            now=now,
            lease_seconds=self._settings.snapshot_lease_seconds,
        )
        return None if raw is None else SnapshotRun.model_validate(raw)

    async def _run(
        self, tenant_id: str, schedule: ScheduleDocument, due: datetime, now: datetime
    ) -> bool:
        db = self._mongo.tenant_db(tenant_id)
        run = await self._claim(db, tenant_id, due, now)
        if run is None:
            return False  # another replica has it (or had it)
        stores = [s for s in schedule.target_stores if s != ALL_STORES]
        if ALL_STORES in schedule.target_stores:
            stores = await StockRepository(db).store_codes(tenant_id)
        snapshots = SnapshotService(
            self._mongo,
            timezone=self._settings.timezone,
            max_items=self._settings.snapshot_max_items,
        )
        runs = SnapshotRunRepository(db)
        failed: list[str] = []
        for store_code in stores:
            if store_code in run.done_stores:
                continue
            try:
                await snapshots.create(tenant_id, store_code, SCHEDULED_BY)
                await runs.collection.update_one(
                    {"job_key": run.job_key}, {"$addToSet": {"done_stores": store_code}}
                )
            except Exception as exc:  # one store's failure must not stop the others
                failed.append(store_code)
                log.warning(
                    "scheduled_snapshot_failed",
                    tenant_id=tenant_id,
                    store_code=store_code,
                    error=type(exc).__name__,
                )
        finished = utcnow()
        await finish_run(runs.collection, run.job_key, finished, failed_stores=failed)
        await ScheduleRepository(db).collection.update_one(
            {"tenant_id": tenant_id}, {"$set": {"last_executed_at": finished}}
        )
        with contextlib.suppress(Exception):
            await ensure_retention(db, schedule.retention_days)
        self.runs += 1
        log.info(
            "scheduled_snapshots_done",
            tenant_id=tenant_id,
            due=due.isoformat(),
            stores=len(stores),
            failed=len(failed),
        )
        return True
