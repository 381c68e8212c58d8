"""Issue 8, v1 compatibility: requests shaped as an existing v1 terminal sends them get the
answer a v1 client expects (whole amounts as floats, `user_error`, the terminal token's issuer,
the `background_jobs` health check)."""

from __future__ import annotations

from datetime import timedelta

import jwt

from kugelpos.common.auth.tokens import TERMINAL_ISSUER
from kugelpos.testkit.testing import assert_error, assert_ok


async def test_amounts_sent_as_whole_floats_are_accepted(world) -> None:
    env = world.env
    await world.add_staff()
    assert_ok(await world.sign_in())
    data = assert_ok(await world.open(1000.0))["data"]
    assert data["initialAmount"] == 1000
    r = await env.http.post(f"{world.path}/cash-in", headers=world.key, json={"amount": 200.0})
    assert assert_ok(r)["data"]["amount"] == 200
    r = await env.http.post(f"{world.path}/cash-out", headers=world.key, json={"amount": 50.0})
    assert assert_ok(r)["data"]["amount"] == -50
    r = await env.http.post(
        "/api/v1/terminals/cash-in-out", headers=world.key, json={"amount": -10.0}
    )
    assert assert_ok(r)["data"]["amount"] == -10
    r = await env.http.post(
        f"{world.path}/close", headers=world.key, json={"physicalAmount": 1140.0}
    )
    data = assert_ok(r)["data"]
    assert data["physicalAmount"] == 1140 and data["expectedAmount"] == 1140
    assert data["differenceAmount"] == 0


async def test_a_fraction_of_the_smallest_unit_is_a_400_and_writes_nothing(world) -> None:
    env = world.env
    await world.add_staff()
    assert_ok(await world.sign_in())
    before = await env.snapshot(world.tenant_id)
    # The terminal keeps 4 decimals; a fifth is finer than any amount it records.
    body = assert_error(await world.open(1000.00001), 400, "300001")
    assert "initialAmount" in body["message"] and "smallest currency unit" in body["message"]
    assert body["user_error"] == body["userError"]
    assert await env.snapshot(world.tenant_id) == before
    assert_ok(await world.open(1000.0))
    before = await env.snapshot(world.tenant_id)
    for path, payload in (
        ("cash-in", {"amount": 0.00001}),
        ("cash-out", {"amount": 1.00001}),
        ("close", {"physicalAmount": 1000.00001}),
    ):
        r = await env.http.post(f"{world.path}/{path}", headers=world.key, json=payload)
        assert_error(r, 400, "300001")
    assert await env.snapshot(world.tenant_id) == before


async def test_error_envelopes_carry_user_error(world) -> None:
    env = world.env
    unknown = f"{world.tenant_id}-{world.store_code}-99"
    r = await env.http.get(f"/api/v1/terminals/{unknown}", headers=world.admin)
    body = assert_error(r, 404)
    assert (
        body["user_error"]
        == body["userError"]
        == {
            "code": body["code"],
            "message": body["userError"]["message"],
        }
    )
    assert body["user_error"]["message"]
    # Success bodies keep exactly the seven keys.
    ok = assert_ok(await env.http.get(world.path, headers=world.key))
    assert "user_error" not in ok


async def test_terminal_tokens_are_issued_by_terminal_service(world) -> None:
    env = world.env
    r = await env.http.post("/api/v1/auth/token", headers=world.key)
    token = assert_ok(r)["data"]["access_token"]
    claims = jwt.decode(token, env.stack.secret_key, algorithms=["HS256"])
    assert claims["iss"] == TERMINAL_ISSUER == "terminal-service"
    assert claims["token_type"] == "terminal"
    # The token works wherever Bearer is accepted, and so does a re-issued one.
    bearer = {"Authorization": f"Bearer {token}"}
    assert_ok(await env.http.get(world.path, headers=bearer))
    await world.add_staff()
    reissued = (await world.sign_in()).headers["X-New-Token"]
    assert jwt.decode(reissued, env.stack.secret_key, algorithms=["HS256"])["iss"] == (
        "terminal-service"
    )


async def test_a_terminal_token_of_another_issuer_is_refused(world) -> None:
    # Terminal tokens carry v1's issuer `terminal-service`; one otherwise the same but signed
    # with the issuer of user and service tokens (`kugelpos`) is not a terminal's credential.
    env = world.env
    issued = jwt.decode(
        assert_ok(await env.http.post("/api/v1/auth/token", headers=world.key))["data"][
            "access_token"
        ],
        env.stack.secret_key,
        algorithms=["HS256"],
    )
    assert issued["iss"] == TERMINAL_ISSUER
    kept = {k: v for k, v in issued.items() if k not in ("iss", "iat", "exp")}
    token = env.codec.encode(kept, timedelta(hours=1))  # the codec's default `kugelpos`
    assert jwt.decode(token, env.stack.secret_key, algorithms=["HS256"])["iss"] == "kugelpos"
    r = await env.http.get(world.path, headers={"Authorization": f"Bearer {token}"})
    assert_error(r, 401, "200001")


async def test_health_reports_background_jobs(world) -> None:
    r = await world.env.http.get("/health")
    assert r.status_code == 200, r.text
    checks = r.json()["checks"]
    assert {"mongodb", "dapr_sidecar", "redis", "background_jobs"} <= set(checks)
    jobs = checks["background_jobs"]
    assert jobs["status"] == "healthy"
    details = jobs["details"]
    assert details["running"] is True and isinstance(details["backlog"], int)
    assert "last_run" in details and details["jobs"] == ["outbox_relay"]
