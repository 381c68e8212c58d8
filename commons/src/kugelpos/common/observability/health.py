"""`/health`: each dependency checked with its latency; 503 when any is unhealthy.

Besides the runner, the checks several services share with v1's meaning (v1 monitors read
them): `dapr_statestore` (`state_store_check`, a read of a state store) and `background_jobs`
(`background_jobs`, the in-process jobs).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping
from enum import StrEnum
from typing import Any

from pydantic import BaseModel

from ..clients.dapr import DaprClientHelper
from ..clock import utcnow

CHECK_TIMEOUT_SECONDS = 3.0
# Read by the state-store checks, written by nobody: a read that finds nothing is a healthy
# answer, and a check never writes (v1's wrote, read and deleted `health-check-key`).
HEALTH_PROBE_KEY = "health:probe"
DAPR_STATESTORE_CHECK = "dapr_statestore"
BACKGROUND_JOBS_CHECK = "background_jobs"


class HealthStatus(StrEnum):
    HEALTHY = "healthy"
    UNHEALTHY = "unhealthy"


class ComponentHealth(BaseModel):
    status: HealthStatus
    response_time_ms: int | None = None
    details: dict[str, Any] | None = None
    error: str | None = None
    component: str | None = None


class HealthCheckResponse(BaseModel):
    status: HealthStatus
    timestamp: str
    service: str
    version: str
    checks: dict[str, ComponentHealth]


# A check returns optional details, or raises when the dependency is not usable.
type HealthCheck = Callable[[], Awaitable[dict[str, Any] | None]]


class UnhealthyError(RuntimeError):
    """Raised by a check that knows why it fails and has details to show all the same (v1's
    `background_jobs` kept `scheduler_running: false` in an unhealthy answer). The message is
    the check's own text, shown as the error: never an exception's text from elsewhere."""

    def __init__(self, message: str, details: dict[str, Any]) -> None:
        super().__init__(message)
        self.details = details


async def _run(name: str, check: HealthCheck) -> ComponentHealth:
    started = time.perf_counter()
    try:
        details = await asyncio.wait_for(check(), CHECK_TIMEOUT_SECONDS)
        status, error = HealthStatus.HEALTHY, None
    except TimeoutError:
        details, status, error = None, HealthStatus.UNHEALTHY, f"{name} check timed out"
    except UnhealthyError as exc:
        details, status, error = exc.details, HealthStatus.UNHEALTHY, f"{name}: {exc}"
    except Exception as exc:  # a health check reports failures, it never raises
        details, status, error = None, HealthStatus.UNHEALTHY, f"{name}: {type(exc).__name__}"
    return ComponentHealth(
        status=status,
        response_time_ms=round((time.perf_counter() - started) * 1000),
        details=details,
        error=error,
        component=name,
    )


async def run_checks(
    service: str, version: str, checks: dict[str, HealthCheck]
) -> HealthCheckResponse:
    results = await asyncio.gather(*(_run(name, check) for name, check in checks.items()))
    by_name = dict(zip(checks, results, strict=True))
    overall = (
        HealthStatus.HEALTHY
        if all(r.status is HealthStatus.HEALTHY for r in results)
        else HealthStatus.UNHEALTHY
    )
    return HealthCheckResponse(
        status=overall,
        timestamp=utcnow().isoformat(),
        service=service,
        version=version,
        checks=by_name,
    )


def state_store_check(dapr: DaprClientHelper, store: str) -> HealthCheck:
    """A Dapr state store is usable: one read through the sidecar of a key nobody writes
    (a missing key is a healthy answer; an unknown store, a sidecar or Redis that does not
    answer is not). Writes nothing, so a monitor polling it leaves no trace in the store."""

    async def check() -> dict[str, Any]:
        await dapr.get_state(store, HEALTH_PROBE_KEY)
        return {"store": store}

    return check


def background_jobs(
    jobs: Mapping[str, bool], extra: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """The `background_jobs` details with v1's keys, then the service's own (`extra`).

    `jobs` maps each in-process job of the service (its outbox relay, a scheduler) to whether
    it runs now. `scheduler_running`: every job runs (v1: its APScheduler ran); `job_count`
    and `job_names`: the jobs running. Healthy as in v1 when the jobs run and there is at least
    one; otherwise `UnhealthyError`, with these details in the answer all the same."""
    running = [name for name, up in jobs.items() if up]
    stopped = [name for name, up in jobs.items() if not up]
    details: dict[str, Any] = {
        "scheduler_running": bool(running) and not stopped,
        "job_count": len(running),
        "job_names": running,
        **(extra or {}),
    }
    if not details["scheduler_running"]:
        raise UnhealthyError(f"not running: {', '.join(stopped) or 'no job'}", details)
    return details
