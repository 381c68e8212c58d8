"""`GET /health` keys v1 monitors read (issue 23), on the running stack.

- report and journal: `checks.dapr_statestore`, a read of the state store that writes nothing
  (v1's wrote, read and deleted a test key);
- terminal and cart: `checks.background_jobs.details` with `scheduler_running`, `job_count` and
  `job_names` describing the outbox relay (v1: its scheduler's republish job).

This project's own checks and details stay beside them.
"""

from __future__ import annotations

import httpx
import pytest
import redis.asyncio as aioredis

OWN_CHECKS = {"mongodb", "dapr_sidecar", "redis"}


async def _state_keys(redis_url: str) -> set[bytes]:
    client = aioredis.from_url(redis_url)
    try:
        return {key async for key in client.scan_iter(match="statestore||*", count=1000)}
    finally:
        await client.aclose()


@pytest.mark.parametrize("service", ["report", "journal"])
async def test_dapr_statestore_reads_the_state_store_and_writes_nothing(stack, service) -> None:
    before = await _state_keys(stack.redis_url)
    async with httpx.AsyncClient(base_url=stack.url(service), timeout=30) as client:
        for _ in range(3):
            r = await client.get("/health")
            assert r.status_code == 200, r.text
            checks = r.json()["checks"]
            assert set(checks) >= OWN_CHECKS
            store = checks["dapr_statestore"]
            assert store["status"] == "healthy" and store["error"] is None
            assert store["details"] == {"store": "statestore"}
            assert store["component"] == "dapr_statestore"
    # The state store holds no key it did not hold before the checks.
    assert await _state_keys(stack.redis_url) == before


@pytest.mark.parametrize("service", ["terminal", "cart"])
async def test_background_jobs_describes_the_relay_in_v1_keys(stack, service) -> None:
    async with httpx.AsyncClient(base_url=stack.url(service), timeout=30) as client:
        r = await client.get("/health")
    assert r.status_code == 200, r.text
    checks = r.json()["checks"]
    assert set(checks) >= OWN_CHECKS
    jobs = checks["background_jobs"]
    assert jobs["status"] == "healthy"
    details = jobs["details"]
    # v1's keys, with v1's meaning: the scheduler runs and holds at least one job.
    assert details["scheduler_running"] is True
    assert details["job_names"] == ["outbox_relay"]
    assert details["job_count"] == len(details["job_names"]) == 1
    # This project's details beside them.
    assert details["running"] is True and details["jobs"] == ["outbox_relay"]
    assert isinstance(details["backlog"], int) and "last_run" in details
