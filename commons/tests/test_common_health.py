"""`/health`: every dependency checked with its latency; 503 when one is unhealthy."""

from __future__ import annotations

import asyncio
from datetime import datetime

import pytest
import redis.asyncio as aioredis

from kugelpos.common.clients.breaker import BreakerRegistry
from kugelpos.common.clients.dapr import DaprClientHelper
from kugelpos.common.clients.http import HttpClientHelper
from kugelpos.common.observability import health as health_module
from kugelpos.common.observability.health import (
    HEALTH_PROBE_KEY,
    HealthStatus,
    background_jobs,
    run_checks,
    state_store_check,
)


async def _healthy() -> None:
    return None


async def _with_details() -> dict:
    return {"job_count": 2}


async def _broken() -> None:
    raise ConnectionError("mongodb://admin:hunter2@db:27017 refused")


async def _hangs() -> None:
    await asyncio.Event().wait()


async def test_all_healthy() -> None:
    result = await run_checks("svc", "1.2.3", {"mongodb": _healthy, "jobs": _with_details})
    assert result.status is HealthStatus.HEALTHY
    assert (result.service, result.version) == ("svc", "1.2.3")
    assert set(result.checks) == {"mongodb", "jobs"}
    assert result.checks["mongodb"].status is HealthStatus.HEALTHY
    assert result.checks["mongodb"].error is None
    assert result.checks["mongodb"].component == "mongodb"
    assert result.checks["jobs"].details == {"job_count": 2}
    assert isinstance(result.checks["jobs"].response_time_ms, int)
    assert datetime.fromisoformat(result.timestamp).utcoffset().total_seconds() == 0


async def test_one_failure_makes_it_unhealthy_without_leaking() -> None:
    result = await run_checks("svc", "1", {"mongodb": _broken, "dapr": _healthy})
    assert result.status is HealthStatus.UNHEALTHY
    mongo = result.checks["mongodb"]
    assert mongo.status is HealthStatus.UNHEALTHY
    assert mongo.error == "mongodb: ConnectionError"
    assert "hunter2" not in result.model_dump_json()
    assert result.checks["dapr"].status is HealthStatus.HEALTHY


async def test_timeout_is_unhealthy(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(health_module, "CHECK_TIMEOUT_SECONDS", 0.05)
    loop = asyncio.get_running_loop()
    started = loop.time()
    result = await run_checks("svc", "1", {"redis": _hangs, "mongodb": _healthy})
    assert loop.time() - started < 1.0
    assert result.status is HealthStatus.UNHEALTHY
    assert result.checks["redis"].error == "redis check timed out"
    assert result.checks["mongodb"].status is HealthStatus.HEALTHY


async def test_checks_run_concurrently(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(health_module, "CHECK_TIMEOUT_SECONDS", 0.2)
    loop = asyncio.get_running_loop()
    started = loop.time()
    await run_checks("svc", "1", {f"c{n}": _hangs for n in range(5)})
    assert loop.time() - started < 0.9  # 5 timeouts in parallel, not in series


async def test_no_checks_is_healthy() -> None:
    assert (await run_checks("svc", "1", {})).status is HealthStatus.HEALTHY


def _app(make_app, checks: dict):
    # Extra checks replace the defaults of the same name (mongodb, dapr_sidecar).
    return make_app([], health_checks=lambda self: checks)


async def test_health_endpoint_200(make_app, client_for) -> None:
    client = client_for(_app(make_app, {"mongodb": _healthy, "dapr_sidecar": _with_details}))
    response = await client.get("/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "healthy"
    assert body["service"] == "commons-test"
    assert body["version"] == "1.0.0"
    assert set(body["checks"]) == {"mongodb", "dapr_sidecar"}
    assert set(body["checks"]["mongodb"]) == {
        "status",
        "response_time_ms",
        "details",
        "error",
        "component",
    }


async def test_health_endpoint_503_when_a_check_fails(make_app, client_for) -> None:
    client = client_for(_app(make_app, {"mongodb": _broken, "dapr_sidecar": _healthy}))
    response = await client.get("/health")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unhealthy"
    assert body["checks"]["mongodb"]["status"] == "unhealthy"
    assert body["checks"]["dapr_sidecar"]["status"] == "healthy"
    assert "hunter2" not in response.text


async def test_default_checks_use_mongo_ping_and_dapr_healthz(make_app, client_for) -> None:
    """The built-in checks call the process-wide clients (replaced here: no network)."""
    app = make_app([])
    infra = app.state.wiring.infra
    pings: list[str] = []

    async def ping() -> None:
        pings.append("ping")

    async def sidecar_ok() -> bool:
        return True

    async def sidecar_down() -> bool:
        return False

    infra.mongo.ping = ping
    infra.dapr.healthz = sidecar_ok
    client = client_for(app)
    response = await client.get("/health")
    assert response.status_code == 200
    assert set(response.json()["checks"]) == {"mongodb", "dapr_sidecar"}
    assert pings == ["ping"]

    infra.dapr.healthz = sidecar_down
    response = await client.get("/health")
    assert response.status_code == 503
    assert response.json()["checks"]["dapr_sidecar"]["error"] == "dapr_sidecar: RuntimeError"
    assert response.json()["checks"]["mongodb"]["status"] == "healthy"


async def test_redis_check_added_when_configured(make_app, settings) -> None:
    from kugelpos.common.web.app import default_health_checks

    app = make_app([], settings=settings.model_copy(update={"redis_url": "redis://127.0.0.1:9"}))
    infra = app.state.wiring.infra
    assert set(default_health_checks(infra)) == {"mongodb", "dapr_sidecar", "redis"}
    assert set(default_health_checks(make_app([]).state.wiring.infra)) == {
        "mongodb",
        "dapr_sidecar",
    }


async def test_root_welcome(make_app, client_for) -> None:
    response = await client_for(make_app([])).get("/")
    assert response.json() == {"message": "Welcome to the commons test app"}


async def test_cors_preflight(make_app, client_for) -> None:
    response = await client_for(make_app([])).options(
        "/health",
        headers={"Origin": "https://pos.example", "Access-Control-Request-Method": "GET"},
    )
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] in ("*", "https://pos.example")


async def test_lifespan_hooks_run(make_app) -> None:
    calls: list[str] = []

    async def start(self) -> None:
        calls.append("start")

    async def stop(self) -> None:
        calls.append("stop")

    app = make_app([], start=start, stop=stop)
    async with app.router.lifespan_context(app):
        assert calls == ["start"]
    assert calls == ["start", "stop"]


# ---- v1's background_jobs keys (issue 23) ----------------------------------------------------


async def test_background_jobs_has_v1_keys_and_the_services_own() -> None:
    details = background_jobs({"outbox_relay": True}, {"backlog": 3})
    assert details == {
        "scheduler_running": True,
        "job_count": 1,
        "job_names": ["outbox_relay"],
        "backlog": 3,
    }


async def test_background_jobs_unhealthy_keeps_its_details_in_the_answer() -> None:
    """v1's rule: unhealthy unless the scheduler runs with at least one job; the answer still
    carries `scheduler_running: false` and the jobs that do run."""

    async def one_stopped() -> dict:
        return background_jobs({"outbox_relay": True, "snapshots": False}, {"owner": "r1"})

    async def none() -> dict:
        return background_jobs({})

    result = await run_checks("svc", "1", {"background_jobs": one_stopped, "empty": none})
    assert result.status is HealthStatus.UNHEALTHY
    jobs = result.checks["background_jobs"]
    assert jobs.status is HealthStatus.UNHEALTHY
    assert jobs.error == "background_jobs: not running: snapshots"
    assert jobs.details == {
        "scheduler_running": False,
        "job_count": 1,
        "job_names": ["outbox_relay"],
        "owner": "r1",
    }
    empty = result.checks["empty"]
    assert empty.error == "empty: not running: no job"
    assert empty.details == {"scheduler_running": False, "job_count": 0, "job_names": []}


async def test_an_unexpected_failure_still_shows_no_text_or_details() -> None:
    """Only `UnhealthyError` (the check's own words) is shown; any other exception's text may
    hold a secret and stays out, as before."""
    result = await run_checks("svc", "1", {"mongodb": _broken})
    assert result.checks["mongodb"].details is None
    assert result.checks["mongodb"].error == "mongodb: ConnectionError"


# ---- dapr_statestore: a read, never a write (issue 23) --------------------------------------


async def _keys(redis_url: str) -> set[bytes]:
    client = aioredis.from_url(redis_url)
    try:
        return {key async for key in client.scan_iter(count=1000)}
    finally:
        await client.aclose()


async def test_state_store_check_reads_the_real_store_and_writes_nothing(stack) -> None:
    http = HttpClientHelper(timeout=5, max_attempts=1, backoff=0, breakers=BreakerRegistry())
    # As the report service reads its state store: with its own Dapr API token.
    dapr = DaprClientHelper(http, stack.sidecar_url, "report", api_token=stack.dapr_token("report"))
    try:
        before = await _keys(stack.redis_url)
        check = state_store_check(dapr, "statestore")
        for _ in range(3):
            assert await check() == {"store": "statestore"}
        after = await _keys(stack.redis_url)
        assert not {k for k in after - before if k.startswith(b"statestore||")}
        assert b"statestore||" + HEALTH_PROBE_KEY.encode() not in after

        # A store the sidecar does not have is unhealthy: the check can fail.
        result = await run_checks("svc", "1", {"dapr_statestore": state_store_check(dapr, "nope")})
        assert result.checks["dapr_statestore"].status is HealthStatus.UNHEALTHY
    finally:
        await http.aclose()


async def test_statestore_checks_read_the_services_idempotency_store(make_app, settings) -> None:
    from kugelpos.common.wiring import statestore_checks

    app = make_app([], settings=settings.model_copy(update={"idempotency_store": "idem"}))
    infra = app.state.wiring.infra
    asked: list[tuple[str, str]] = []

    async def get_state(store: str, key: str) -> None:
        asked.append((store, key))

    infra.dapr.get_state = get_state
    checks = statestore_checks(infra)
    assert set(checks) == {"dapr_statestore"}
    assert await checks["dapr_statestore"]() == {"store": "idem"}
    assert asked == [("idem", HEALTH_PROBE_KEY)]
