"""The daily expiry run (§B9, like stock's snapshots): every replica polls; for each tenant
whose settings expire cards, the day's run is due at `EXPIRY_RUN_HOUR` in the app time zone,
and whoever claims `expiry_<tenant>:<day>` first (commons.jobs) runs it; a replica that dies
mid-run is replaced when its lease expires (each card's expiry is itself once-only, so a
taken-over run repeats nothing)."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from datetime import datetime, time
from typing import Any
from zoneinfo import ZoneInfo

import structlog

from kugelpos.common.clock import utcnow
from kugelpos.common.db.mongo import Mongo
from kugelpos.common.jobs import claim_run, finish_run
from kugelpos.common.observability.health import HealthCheck

from ..config import StoredValueSettings
from .repository import ExpiryRunRepository
from .service import ExpiryService

log = structlog.get_logger(__name__)


class ExpiryScheduler:
    def __init__(self, mongo: Mongo, expiry: ExpiryService, settings: StoredValueSettings):
        self._mongo = mongo
        self._expiry = expiry
        self._settings = settings
        self._zone = ZoneInfo(settings.timezone)
        self.owner = f"stored-value-{secrets.token_hex(4)}"
        self._task: asyncio.Task[None] | None = None
        self.last_poll: datetime | None = None
        self.last_error: str | None = None
        self.runs = 0

    async def start(self) -> None:
        if self._settings.expiry_scheduler_enabled:
            self._task = asyncio.get_running_loop().create_task(self._loop())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task

    def due(self, now: datetime) -> datetime:
        """Today's run time (the app time zone) as a UTC instant."""
        local = now.astimezone(self._zone)
        at = datetime.combine(local.date(), time(self._settings.expiry_run_hour), self._zone)
        return at.astimezone(now.tzinfo)

    async def poll(self, now: datetime | None = None) -> int:
        """One look at every tenant; how many runs this replica made."""
        now = now or utcnow()
        self.last_poll = now
        due = self.due(now)
        if now < due:
            return 0
        ran = 0
        for tenant_id in await self._mongo.tenant_ids():
            settings = await self._expiry.settings(tenant_id)
            if settings.gift_expiry_days is None and settings.credit_expiry_days is None:
                continue
            if await self.run(tenant_id, due, now):
                ran += 1
        self.runs += ran
        return ran

    async def run(self, tenant_id: str, due: datetime, now: datetime) -> bool:
        db = self._mongo.tenant_db(tenant_id)
        await ExpiryRunRepository.ensure_indexes(db)
        runs = ExpiryRunRepository(db).collection
        job_key = f"expiry_{tenant_id}:{due.astimezone(self._zone).date().isoformat()}"
        claimed = await claim_run(
            runs,
            job_key,
            tenant_id=tenant_id,
            due_at=due,
            owner=self.owner,
            now=now,
            lease_seconds=self._settings.expiry_lease_seconds,
        )
        if claimed is None:
            return False  # another replica has it, or it is done
        expired = await self._expiry.expire(tenant_id, now)
        await finish_run(
            runs, job_key, utcnow(), expired_cards=expired.cards, breakage=expired.breakage
        )
        log.info(
            "cards_expired", tenant_id=tenant_id, cards=expired.cards, breakage=expired.breakage
        )
        return True

    async def _loop(self) -> None:
        while True:
            try:
                await self.poll()
                self.last_error = None
            except Exception as exc:  # a bad poll must not end the scheduler
                self.last_error = type(exc).__name__
                log.warning("expiry_poll_failed", error=type(exc).__name__)
            await asyncio.sleep(self._settings.expiry_poll_seconds)

    def health_checks(self) -> dict[str, HealthCheck]:
        async def expiry_scheduler() -> dict[str, Any]:
            enabled = self._settings.expiry_scheduler_enabled
            if enabled and (self._task is None or self._task.done()):
                raise RuntimeError("expiry scheduler not running")
            return {
                "enabled": enabled,
                "owner": self.owner,
                "last_poll": self.last_poll.isoformat() if self.last_poll else None,
                "last_error": self.last_error,
                "runs": self.runs,
            }

        return {"expiry_scheduler": expiry_scheduler}
