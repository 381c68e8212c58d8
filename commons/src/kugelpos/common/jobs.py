"""A scheduled job's run, claimed by one replica (§B9): whoever inserts the run's document
(unique `job_key`: the job, the tenant and the due time) runs it, holding a lease; a replica
that dies mid-run loses it when the lease expires, and the next poll of any replica takes the
run over. `DailyJob` is such a job run once a day per tenant: stored value's card expiry,
master-data's change-log compaction (stock's snapshot scheduler claims its runs the same way,
on its own cron schedule, and records on each run the stores done). `Poller` is the loop
every background job of a replica runs on."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from abc import ABC, abstractmethod
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import structlog
from pymongo import ReturnDocument
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from .clock import utcnow
from .db.documents import Document
from .db.indexes import Index, index
from .db.mongo import Mongo
from .db.repository import Repository
from .observability.health import HealthCheck

log = structlog.get_logger(__name__)

RUNNING, DONE = "running", "done"
JOB_RUN_INDEXES: tuple[Index, ...] = (index("job_key", unique=True), index("-due_at"))


class JobRun(Document):
    """One run of a job (a subclass adds what its run records when done)."""

    job_key: str
    tenant_id: str
    due_at: datetime
    owner: str
    lease_until: datetime
    status: str = RUNNING


async def claim_run(
    runs: AsyncCollection,
    job_key: str,
    *,
    tenant_id: str,
    due_at: datetime,
    owner: str,
    now: datetime,
    lease_seconds: float,
) -> dict[str, Any] | None:
    """The run, if this owner may run it now (new, or another's whose lease expired before
    it finished); None when another replica has it or it is done."""
    until = now + timedelta(seconds=lease_seconds)
    run = {
        "job_key": job_key,
        "tenant_id": tenant_id,
        "due_at": due_at,
        "owner": owner,
        "lease_until": until,
        "status": RUNNING,
        "created_at": now,
    }
    try:
        await runs.insert_one(dict(run))
        return run
    except DuplicateKeyError:
        return await runs.find_one_and_update(
            {"job_key": job_key, "status": RUNNING, "lease_until": {"$lt": now}},
            {"$set": {"owner": owner, "lease_until": until, "updated_at": now}},
            projection={"_id": False},
            return_document=ReturnDocument.AFTER,
        )


async def finish_run(runs: AsyncCollection, job_key: str, now: datetime, **result: Any) -> None:
    await runs.update_one(
        {"job_key": job_key}, {"$set": {"status": DONE, "updated_at": now, **result}}
    )


class Poller(ABC):
    """A background loop every replica runs (hold expiry, the daily jobs, stock's snapshot
    scheduler): `poll` every `poll_seconds`; a poll that fails is logged and the loop goes on;
    `/health` names the check `check` and says whether the loop runs."""

    check: str  # the health check's name, and the prefix of the loop's log events

    def __init__(self, *, poll_seconds: float, enabled: bool) -> None:
        self._poll_seconds = poll_seconds
        self._enabled = enabled
        self._task: asyncio.Task[None] | None = None
        self.last_poll: datetime | None = None
        self.last_error: str | None = None

    @abstractmethod
    async def poll(self, now: datetime | None = None) -> int:
        """One look at the work (every tenant's); how much this replica did."""

    def details(self) -> dict[str, Any]:
        """What `/health` shows beyond whether the loop runs."""
        return {}

    async def start(self) -> None:
        if self._enabled:
            self._task = asyncio.get_running_loop().create_task(self._loop())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task

    async def _loop(self) -> None:
        while True:
            try:
                await self.poll()
                self.last_error = None
            except Exception as exc:  # a bad poll must not end the loop
                self.last_error = type(exc).__name__
                log.warning(f"{self.check}_poll_failed", error=type(exc).__name__)
            await asyncio.sleep(self._poll_seconds)

    def health_checks(self) -> dict[str, HealthCheck]:
        async def running() -> dict[str, Any]:
            if self._enabled and (self._task is None or self._task.done()):
                raise RuntimeError(f"{self.check} not running")
            return {
                "enabled": self._enabled,
                "last_poll": self.last_poll.isoformat() if self.last_poll else None,
                "last_error": self.last_error,
                **self.details(),
            }

        return {self.check: running}


class DailyJob(Poller):
    """A per-tenant job run once a day (stored value's card expiry, master-data's change-log
    compaction): every replica polls; a tenant's run of the day is due at `run_hour` in the
    app's time zone, and the replica that claims `<name>_<tenant>:<day>` (`claim_run`) runs it,
    holding a lease; one that dies mid-run is replaced when the lease expires, so `work` must
    be safe to run again for the same day (each of its steps once-only, or idempotent)."""

    name: str  # the job's key prefix; its health check is `<name>_scheduler`
    runs: type[Repository[Any]]  # its runs' collection (indexes: JOB_RUN_INDEXES)

    def __init__(
        self,
        mongo: Mongo,
        *,
        service: str,
        timezone: str,
        run_hour: int,
        poll_seconds: float,
        lease_seconds: float,
        enabled: bool,
    ) -> None:
        super().__init__(poll_seconds=poll_seconds, enabled=enabled)
        self.check = f"{self.name}_scheduler"
        self._mongo = mongo
        self._zone = ZoneInfo(timezone)
        self._run_hour = run_hour
        self._lease_seconds = lease_seconds
        # Who holds a run's lease (the run's `owner`): tells the replicas apart.
        self.owner = f"{service}-{secrets.token_hex(4)}"
        self.runs_made = 0

    async def wanted(self, tenant_id: str) -> bool:
        """Whether this tenant has the job at all (its settings may switch it off)."""
        return True

    @abstractmethod
    async def work(self, tenant_id: str, now: datetime) -> dict[str, Any]:
        """The tenant's run; what it did, recorded on the run and logged."""

    def due(self, now: datetime) -> datetime:
        """Today's run time (the app time zone) as an instant in `now`'s zone."""
        local = now.astimezone(self._zone)
        at = datetime.combine(local.date(), time(self._run_hour), self._zone)
        return at.astimezone(now.tzinfo)

    def job_key(self, tenant_id: str, due: datetime) -> str:
        return f"{self.name}_{tenant_id}:{due.astimezone(self._zone).date().isoformat()}"

    async def poll(self, now: datetime | None = None) -> int:
        """One look at every tenant; how many runs this replica made."""
        now = now or utcnow()
        self.last_poll = now
        due = self.due(now)
        if now < due:
            return 0
        ran = 0
        for tenant_id in await self._mongo.tenant_ids():
            if await self.wanted(tenant_id) and await self.run(tenant_id, due, now):
                ran += 1
        self.runs_made += ran
        return ran

    async def run(self, tenant_id: str, due: datetime, now: datetime) -> bool:
        """The tenant's run due at `due`, if this replica claims it (False: another has it,
        or it is done)."""
        db = self._mongo.tenant_db(tenant_id)
        await self.runs.ensure_indexes(db)
        runs = db[self.runs.collection_name]
        job_key = self.job_key(tenant_id, due)
        claimed = await claim_run(
            runs,
            job_key,
            tenant_id=tenant_id,
            due_at=due,
            owner=self.owner,
            now=now,
            lease_seconds=self._lease_seconds,
        )
        if claimed is None:
            return False
        result = await self.work(tenant_id, now)
        await finish_run(runs, job_key, utcnow(), **result)
        log.info(f"{self.name}_run", tenant_id=tenant_id, **result)
        return True

    def details(self) -> dict[str, Any]:
        return {"owner": self.owner, "runs": self.runs_made}
