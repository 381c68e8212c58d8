"""A scheduled job's run, claimed by one replica (§B9): whoever inserts the run's document
(unique `job_key`: the job, the tenant and the due time) runs it, holding a lease; a replica
that dies mid-run loses it when the lease expires, and the next poll of any replica takes the
run over. Used by stored value's card expiry (stock's snapshot scheduler keeps its own runs,
which also record the stores done)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from pymongo import ReturnDocument
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from .db.indexes import Index, index

RUNNING, DONE = "running", "done"
JOB_RUN_INDEXES: tuple[Index, ...] = (index("job_key", unique=True), index("-due_at"))


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
