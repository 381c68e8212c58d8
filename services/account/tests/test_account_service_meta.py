"""Welcome, health, metrics and correlation ids of the running account service."""

from __future__ import annotations


async def test_welcome(client):
    r = await client.get("/")
    assert r.status_code == 200
    assert "Kugel-POS Auth API" in r.json()["message"]


async def test_health_checks_mongodb_dapr_and_redis(client):
    r = await client.get("/health")
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "healthy" and body["service"] == "account"
    assert {"mongodb", "dapr_sidecar", "redis"} <= set(body["checks"])
    for check in body["checks"].values():
        assert check["status"] == "healthy"
        assert isinstance(check["response_time_ms"], int)


async def test_request_id_is_returned_and_generated(client):
    r = await client.get("/", headers={"X-Request-ID": "till-42-req-7"})
    assert r.headers["x-request-id"] == "till-42-req-7"
    generated = (await client.get("/")).headers["x-request-id"]
    assert len(generated) == 32


async def test_metrics_expose_latency_and_errors(client):
    await client.get("/api/v1/accounts/users")  # 401
    text = (await client.get("/metrics")).text
    assert "http_request_duration_seconds_bucket" in text
    assert (
        'http_request_errors_total{method="GET",route="/api/v1/accounts/users",'
        'service="account",status="401"}'
    ) in text


async def test_logs_never_hold_passwords_or_tokens(client, admin, stack):
    await client.post(
        "/api/v1/accounts/token",
        data={"username": "admin", "password": "leaky-password-123", "client_id": admin.tenant_id},
    )
    await client.get("/api/v1/accounts/token/valid", headers=admin.headers)
    log = stack.log_path("account").read_text()
    assert "leaky-password-123" not in log
    assert admin.token not in log
