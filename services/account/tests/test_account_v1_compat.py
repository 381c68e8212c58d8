"""Issue 8, v1 compatibility: the register message v1 clients compare, and `user_error` in
every error body."""

from __future__ import annotations

from kugelpos.testkit.testing import PASSWORD, assert_error, assert_ok, login, new_tenant_id


async def test_register_answers_exactly_the_v1_message(client) -> None:
    body = {"username": "owner", "password": PASSWORD, "tenantId": new_tenant_id()}
    r = await client.post("/api/v1/accounts/register", json=body)
    assert assert_ok(r, 201)["message"] == "User registration successful"


async def test_error_bodies_carry_user_error_for_v1_clients(client) -> None:
    tenant_id = new_tenant_id()
    body = {"username": "owner", "password": PASSWORD, "tenantId": tenant_id}
    assert_ok(await client.post("/api/v1/accounts/register", json=body), 201)
    duplicate = assert_error(await client.post("/api/v1/accounts/register", json=body), 409)
    assert duplicate["user_error"] == {
        "code": "500005",
        "message": duplicate["userError"]["message"],
    }
    refused = assert_error(await login(client, tenant_id, "owner", "wrong-password"), 401)
    assert refused["user_error"] == refused["userError"]
    invalid = assert_error(await client.post("/api/v1/accounts/register", json={}), 422)
    assert invalid["user_error"]["code"] == invalid["code"]
    japanese = await client.post(
        "/api/v1/accounts/register", json=body, headers={"Accept-Language": "ja"}
    )
    assert japanese.json()["user_error"] == japanese.json()["userError"]
