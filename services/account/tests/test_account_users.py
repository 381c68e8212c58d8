"""Users of a tenant: v1 `/register/user` and the `/users` endpoints."""

from __future__ import annotations

from kugelpos.testkit.testing import (
    PASSWORD,
    assert_error,
    assert_ok,
    login,
    register_tenant_admin,
)


async def _token(client, tenant_id: str, username: str) -> dict[str, str]:
    r = await login(client, tenant_id, username)
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


async def test_superuser_registers_a_plain_user(client, admin, db_name, databases):
    r = await client.post(
        "/api/v1/accounts/register/user",
        headers=admin.headers,
        json={"username": "cashier", "password": PASSWORD, "tenantId": "IGNORED1"},
    )
    body = assert_ok(r, 201)
    assert body["operation"] == "register_user_by_superuser"
    data = body["data"]
    assert data["tenantId"] == admin.tenant_id
    assert data["isSuperuser"] is False and data["roles"] == ["user"]
    assert "$2b$" not in r.text
    assert db_name("IGNORED1") not in await databases()


async def test_duplicate_username_is_409_not_500(client, admin):
    body = {"username": "twin", "password": PASSWORD}
    assert (
        await client.post("/api/v1/accounts/register/user", headers=admin.headers, json=body)
    ).status_code == 201
    r = await client.post("/api/v1/accounts/register/user", headers=admin.headers, json=body)
    assert_error(r, 409, "500005")
    r = await client.post("/api/v1/accounts/users", headers=admin.headers, json=body)
    assert_error(r, 409, "500005")


async def test_plain_user_cannot_create_or_list_users(client, admin, mongo, db_name):
    await client.post(
        "/api/v1/accounts/users",
        headers=admin.headers,
        json={"username": "plain", "password": PASSWORD, "roles": ["user"]},
    )
    plain = await _token(client, admin.tenant_id, "plain")
    users = mongo[db_name(admin.tenant_id)]["user_accounts"]
    before = await users.count_documents({})
    for path in ("/api/v1/accounts/users", "/api/v1/accounts/register/user"):
        r = await client.post(path, headers=plain, json={"username": "x1", "password": PASSWORD})
        assert_error(r, 403, "200002")
    assert_error(await client.get("/api/v1/accounts/users", headers=plain), 403, "200002")
    assert await users.count_documents({}) == before


async def test_manager_lists_but_cannot_create(client, admin):
    await client.post(
        "/api/v1/accounts/users",
        headers=admin.headers,
        json={"username": "boss", "password": PASSWORD, "roles": ["manager"]},
    )
    manager = await _token(client, admin.tenant_id, "boss")
    assert_ok(await client.get("/api/v1/accounts/users", headers=manager))
    r = await client.post(
        "/api/v1/accounts/users", headers=manager, json={"username": "y", "password": PASSWORD}
    )
    assert_error(r, 403, "200002")


async def test_users_are_listed_per_tenant_with_pagination(client, admin, stack):
    other = await register_tenant_admin(stack.url("account"))
    for name in ("u1", "u2", "u3"):
        r = await client.post(
            "/api/v1/accounts/users",
            headers=admin.headers,
            json={"username": name, "password": PASSWORD, "roles": ["user", "manager"]},
        )
        assert r.status_code == 201
    r = await client.get(
        "/api/v1/accounts/users?limit=2&page=2&sort=username:1", headers=admin.headers
    )
    body = assert_ok(r)
    assert [u["username"] for u in body["data"]] == ["u2", "u3"]
    assert body["metadata"] == {
        "total": 4,
        "page": 2,
        "limit": 2,
        "sort": "username:1",
        "filter": {"tenant_id": admin.tenant_id},
    }
    theirs = assert_ok(await client.get("/api/v1/accounts/users", headers=other.headers))
    assert [u["username"] for u in theirs["data"]] == ["admin"]


async def test_user_listing_rejects_bad_paging(client, admin):
    for query in ("sort=username", "sort=username:2", "sort=hashed_password:1", "limit=-1"):
        r = await client.get(f"/api/v1/accounts/users?{query}", headers=admin.headers)
        if query == "sort=username":
            assert_ok(r)
        else:
            assert r.status_code in (400, 422)
            assert_error(r, r.status_code)


async def test_user_creation_validates_roles(client, admin):
    r = await client.post(
        "/api/v1/accounts/users",
        headers=admin.headers,
        json={"username": "r", "password": PASSWORD, "roles": ["root"]},
    )
    assert_error(r, 422, "300001")


async def test_no_token_is_401(client):
    assert_error(await client.get("/api/v1/accounts/users"), 401, "200001")
    r = await client.post(
        "/api/v1/accounts/register/user", json={"username": "x", "password": PASSWORD}
    )
    assert_error(r, 401, "200001")
