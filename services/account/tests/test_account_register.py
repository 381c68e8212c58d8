"""Tenant bootstrap through `POST /api/v1/accounts/register`."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import httpx

from kugelpos.testkit.testing import PASSWORD, assert_error, assert_ok, login, new_tenant_id


async def test_register_creates_tenant_admin_without_exposing_the_hash(client, mongo, db_name):
    tenant_id = new_tenant_id()
    r = await client.post(
        "/api/v1/accounts/register",
        json={"username": "owner", "password": PASSWORD, "tenantId": tenant_id},
    )
    body = assert_ok(r, 201)
    assert body["operation"] == "register_super_user"
    data = body["data"]
    assert data["tenantId"] == tenant_id
    assert data["username"] == "owner"
    assert data["isSuperuser"] is True and data["isActive"] is True
    assert data["roles"] == ["admin"]
    assert data["password"] == "*****" and data["hashedPassword"] == "*****"
    assert "$2b$" not in r.text and PASSWORD not in r.text
    stored = await mongo[db_name(tenant_id)]["user_accounts"].find_one({"username": "owner"})
    assert stored["hashed_password"].startswith("$2b$")
    assert PASSWORD not in str(stored)


async def test_register_generates_a_tenant_id_when_none_is_given(client):
    r = await client.post(
        "/api/v1/accounts/register", json={"username": "owner", "password": PASSWORD}
    )
    assert r.status_code == 201
    assert re.fullmatch(r"[A-Z][1-9]\d{3}", r.json()["data"]["tenantId"])


async def test_register_refuses_an_existing_tenant_and_writes_nothing(client, mongo, db_name):
    tenant_id = new_tenant_id()
    first = {"username": "owner", "password": PASSWORD, "tenantId": tenant_id}
    assert (await client.post("/api/v1/accounts/register", json=first)).status_code == 201
    second = {"username": "intruder", "password": PASSWORD + "x", "tenantId": tenant_id}
    assert_error(await client.post("/api/v1/accounts/register", json=second), 409, "500005")
    users = mongo[db_name(tenant_id)]["user_accounts"]
    assert await users.count_documents({}) == 1
    assert (await login(client, tenant_id, "intruder", PASSWORD + "x")).status_code == 401


async def test_a_tenant_id_that_differs_only_in_case_is_409_and_writes_nothing(
    client, mongo, db_name, databases
):
    """ "Shop1" and "shop1" would name databases that differ only in case, which MongoDB
    refuses: the second registration is refused, whatever case it uses."""
    tenant_id = new_tenant_id("Tc")
    first = {"username": "owner", "password": PASSWORD, "tenantId": tenant_id}
    assert (await client.post("/api/v1/accounts/register", json=first)).status_code == 201
    claims = mongo[db_name("commons")]["tenants"]
    for variant in (tenant_id.lower(), tenant_id.upper(), tenant_id.swapcase()):
        second = {"username": "intruder", "password": PASSWORD, "tenantId": variant}
        r = await client.post("/api/v1/accounts/register", json=second)
        error = assert_error(r, 409, "408201")
        assert tenant_id in error["message"]
        assert db_name(variant) not in await databases()
        assert await claims.count_documents({"tenant_id": variant}) == 0
        assert (await login(client, variant, "intruder")).status_code == 401
    # The first keeps the case it was given, and its admin signs in as before.
    claim = await claims.find_one({"tenant_id": tenant_id})
    assert claim["tenant_key"] == tenant_id.lower()
    assert (await login(client, tenant_id, "owner")).status_code == 200


async def test_a_claim_from_before_the_case_key_still_blocks_its_variants(client, mongo, db_name):
    """Tenants claimed before `tenant_key` existed have none: found by their id all the same."""
    tenant_id = new_tenant_id("Tl")
    claims = mongo[db_name("commons")]["tenants"]
    await claims.insert_one({"tenant_id": tenant_id, "created_at": datetime.now(UTC)})
    second = {"username": "owner", "password": PASSWORD, "tenantId": tenant_id.lower()}
    r = await client.post("/api/v1/accounts/register", json=second)
    assert_error(r, 409, "408201")
    assert await claims.count_documents({"tenant_id": tenant_id.lower()}) == 0


async def test_register_accepts_snake_case_tenant_id(client):
    tenant_id = new_tenant_id()
    r = await client.post(
        "/api/v1/accounts/register",
        json={"username": "owner", "password": PASSWORD, "tenant_id": tenant_id},
    )
    assert r.status_code == 201
    assert r.json()["data"]["tenantId"] == tenant_id


async def test_register_rejects_reserved_and_malformed_tenant_ids(
    client, mongo, db_name, databases
):
    for bad, status in (("commons", 400), ("A-1234", 422), ("x" * 40, 422), ("", 422)):
        r = await client.post(
            "/api/v1/accounts/register",
            json={"username": "owner", "password": PASSWORD, "tenantId": bad},
        )
        assert_error(r, status)
    claims = mongo[db_name("commons")]["tenants"]
    assert await claims.count_documents({"tenant_id": {"$in": ["commons", "A-1234"]}}) == 0
    assert db_name("A-1234") not in await databases()


async def test_register_rejects_bad_input_with_an_envelope(client, databases):
    before = await databases()
    cases = [
        (b'{"username": "owner", "password": ', "application/json", 422),
        (b'{"password": "long-enough-pw"}', "application/json", 422),
        (b'{"username": 12, "password": "long-enough-pw"}', "application/json", 422),
        (b'{"username": "owner", "password": "short"}', "application/json", 422),
        (b'{"username": " owner", "password": "long-enough-pw"}', "application/json", 422),
        (b"[]", "application/json", 422),
        (b"username=owner", "text/plain", 422),
    ]
    for content, content_type, status in cases:
        r = await client.post(
            "/api/v1/accounts/register", content=content, headers={"content-type": content_type}
        )
        assert_error(r, status)
    missing = await client.post("/api/v1/accounts/register", json={"password": PASSWORD})
    assert assert_error(missing, 422)["code"] == "300002"
    assert await databases() == before


async def test_a_one_megabyte_username_is_refused_without_echo(client, databases):
    before = await databases()
    huge = "u" * (1024 * 1024)
    r = await client.post(
        "/api/v1/accounts/register",
        json={"username": huge, "password": PASSWORD, "tenantId": new_tenant_id()},
    )
    assert r.status_code in (413, 422)
    assert_error(r, r.status_code)
    assert len(r.content) < 2048
    medium = "u" * 5000
    r = await client.post(
        "/api/v1/accounts/register",
        json={"username": medium, "password": PASSWORD, "tenantId": new_tenant_id()},
    )
    assert_error(r, 422, "300001")
    assert medium not in r.text
    assert await databases() == before


async def test_registration_can_be_closed(stack_factory):
    from kugelpos.registry.services import service

    closed = stack_factory(services=[service("account")], extra_env={"REGISTRATION_OPEN": "false"})
    async with httpx.AsyncClient(base_url=closed.url("account")) as c:
        r = await c.post(
            "/api/v1/accounts/register",
            json={"username": "owner", "password": PASSWORD, "tenantId": new_tenant_id()},
        )
    assert_error(r, 403, "200002")
