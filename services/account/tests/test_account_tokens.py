"""Password login, throttling and token verification."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import httpx
import jwt

from kugelpos.testkit.testing import PASSWORD, assert_error, assert_ok, login, new_tenant_id


async def test_login_issues_a_token_with_tenant_roles_and_expiry(client, admin, stack):
    r = await login(client, admin.tenant_id, "admin")
    assert r.status_code == 200
    body = r.json()
    assert set(body) == {"access_token", "token_type"} and body["token_type"] == "bearer"
    claims = jwt.decode(body["access_token"], stack.secret_key, algorithms=["HS256"])
    assert claims["sub"] == "admin"
    assert claims["tenant_id"] == admin.tenant_id
    assert claims["is_superuser"] is True
    assert claims["roles"] == ["admin"]
    assert claims["exp"] - claims["iat"] == 30 * 60


async def test_token_valid_returns_the_claims(client, admin):
    r = await client.get("/api/v1/accounts/token/valid", headers=admin.headers)
    data = assert_ok(r)["data"]
    assert data["sub"] == "admin" and data["tenantId"] == admin.tenant_id
    assert data["tokenType"] == "user" and data["roles"] == ["admin"]
    assert data["exp"] > datetime.now(UTC).timestamp()


async def test_login_failures_are_401_envelopes(client, admin):
    cases = [
        (admin.tenant_id, "admin", "wrong-password"),
        (admin.tenant_id, "nobody", PASSWORD),
        (new_tenant_id(), "admin", PASSWORD),
        ("bad tenant!", "admin", PASSWORD),
    ]
    for tenant_id, username, password in cases:
        r = await login(client, tenant_id, username, password)
        body = assert_error(r, 401, "200001")
        assert body["message"] == "Incorrect username, password or tenant_id"


async def test_login_form_validation(client):
    r = await client.post("/api/v1/accounts/token", data={"username": "admin"})
    assert_error(r, 422)
    r = await client.post(
        "/api/v1/accounts/token", data={"username": "a", "password": "b"}
    )  # no tenant
    assert_error(r, 422)
    r = await client.post(
        "/api/v1/accounts/token",
        data={"username": "a", "password": "b", "client_id": "T1", "grant_type": "implicit"},
    )
    assert_error(r, 422)


async def test_failed_logins_are_throttled_per_tenant_and_user(client, admin):
    for _ in range(5):
        assert (await login(client, admin.tenant_id, "admin", "wrong-password")).status_code == 401
    locked = await login(client, admin.tenant_id, "admin", PASSWORD)
    body = assert_error(locked, 429, "200003")
    assert "Retry-After" in locked.headers
    assert "access_token" not in body
    # Another user of the same tenant is not locked out by someone else's failures.
    r = await client.post(
        "/api/v1/accounts/users",
        headers=admin.headers,
        json={"username": "clerk", "password": PASSWORD, "roles": ["user"]},
    )
    assert r.status_code == 201
    assert (await login(client, admin.tenant_id, "clerk")).status_code == 200


async def test_a_flood_from_one_address_does_not_hold_up_the_user_elsewhere(stack, admin):
    """Wrong passwords from one address make that address wait, longer after each further
    failure, answered 429 with Retry-After; the user logging in from another address is not
    held up, and a forged X-Forwarded-For does not buy the flood a fresh start."""
    attacker = httpx.AsyncClient(
        base_url=stack.url("account"),
        transport=httpx.AsyncHTTPTransport(local_address="127.0.0.2"),
        timeout=30,
    )
    user = httpx.AsyncClient(base_url=stack.url("account"), timeout=30)
    async with attacker, user:
        statuses = [
            (await login(attacker, admin.tenant_id, "admin", "wrong-password")).status_code
            for _ in range(5)
        ]
        assert statuses == [401] * 5
        refused = await login(attacker, admin.tenant_id, "admin", PASSWORD)
        body = assert_error(refused, 429, "200003")
        assert "access_token" not in body
        first_wait = int(refused.headers["Retry-After"])
        assert 1 <= first_wait <= 5
        spoofed = await attacker.post(
            "/api/v1/accounts/token",
            data={"username": "admin", "password": PASSWORD, "client_id": admin.tenant_id},
            headers={"X-Forwarded-For": "198.51.100.77"},
        )
        assert_error(spoofed, 429, "200003")
        assert (await login(user, admin.tenant_id, "admin")).status_code == 200

        await asyncio.sleep(first_wait)
        assert (await login(attacker, admin.tenant_id, "admin", "wrong")).status_code == 401
        again = await login(attacker, admin.tenant_id, "admin", PASSWORD)
        assert_error(again, 429, "200003")
        assert 5 < int(again.headers["Retry-After"]) <= 10  # twice as long as the first wait
        assert (await login(user, admin.tenant_id, "admin")).status_code == 200


def _forge(claims: dict, secret: str, algorithm: str = "HS256") -> str:
    return jwt.encode(claims, secret, algorithm=algorithm)


async def test_forged_expired_and_malformed_tokens_are_refused(client, admin, stack):
    now = datetime.now(UTC)
    base = {"sub": "admin", "tenant_id": admin.tenant_id, "roles": ["admin"]}
    tokens = [
        _forge({**base, "exp": now + timedelta(minutes=5)}, "not-the-secret-" * 3),
        _forge({**base, "exp": now - timedelta(seconds=5)}, stack.secret_key),
        _forge({"tenant_id": admin.tenant_id, "exp": now + timedelta(minutes=5)}, stack.secret_key),
        _forge({**base}, stack.secret_key),
        jwt.encode({**base, "exp": now + timedelta(minutes=5)}, None, algorithm="none"),
        "not-a-jwt",
    ]
    for token in tokens:
        r = await client.get(
            "/api/v1/accounts/token/valid", headers={"Authorization": f"Bearer {token}"}
        )
        assert_error(r, 401, "200001")
        assert r.headers.get("www-authenticate") == "Bearer"
    r = await client.get("/api/v1/accounts/token/valid")
    assert_error(r, 401, "200001")


async def test_inactive_user_cannot_log_in(client, admin):
    r = await client.post(
        "/api/v1/accounts/users",
        headers=admin.headers,
        json={"username": "gone", "password": PASSWORD, "isActive": False},
    )
    assert r.status_code == 201
    assert_error(await login(client, admin.tenant_id, "gone"), 401, "200001")


async def test_login_records_last_login(client, admin):
    r = await client.get("/api/v1/accounts/users?sort=username:1", headers=admin.headers)
    users = {u["username"]: u for u in assert_ok(r)["data"]}
    assert users["admin"]["lastLogin"] is not None
