"""`/health`: each dependency checked with its latency; 503 when any is unhealthy."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from enum import StrEnum
from typing import Any

from pydantic import BaseModel

from ..clock import utcnow

CHECK_TIMEOUT_SECONDS = 3.0


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


async def _run(name: str, check: HealthCheck) -> ComponentHealth:
    started = time.perf_counter()
    try:
        details = await asyncio.wait_for(check(), CHECK_TIMEOUT_SECONDS)
        status, error = HealthStatus.HEALTHY, None
    except TimeoutError:
        details, status, error = None, HealthStatus.UNHEALTHY, f"{name} check timed out"
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
