"""Tenants and stores: create with set-up fan-out, read, update, delete; refusals."""

from __future__ import annotations

from pymongo import AsyncMongoClient

from kugelpos.testkit.testing import assert_error, assert_ok, new_tenant_id, register_tenant_admin


async def test_create_tenant_sets_up_master_data_and_is_409_when_repeated(env) -> None:
    tenant_id = new_tenant_id("TT")
    body = {"tenantId": tenant_id, "tenantName": "Shop", "tags": ["a"]}
    r = await env.http.post("/api/v1/tenants", headers=env.user(tenant_id), json=body)
    data = assert_ok(r, 201)["data"]
    assert data["tenantId"] == tenant_id and data["stores"] == [] and data["setupComplete"]
    results = {x["service"]: x["status"] for x in data["setupResults"]}
    assert results["master-data"] == "ok"
    # Services the stack does not run are reported, not silently ignored.
    assert all(status in {"ok", "skipped"} for status in results.values())
    master_data = AsyncMongoClient(env.stack.mongo_uri_for("master-data"))
    try:
        assert await master_data[
            env.stack.db_name("master-data", tenant_id)
        ].list_collection_names()
    finally:
        await master_data.close()
    again = await env.http.post("/api/v1/tenants", headers=env.user(tenant_id), json=body)
    assert_error(again, 409, "407002")


async def test_a_tenant_id_that_differs_only_in_case_is_409_and_creates_nothing(env) -> None:
    """Their databases (db_terminal_Shop1 / db_terminal_shop1) would collide on MongoDB."""
    tenant_id = new_tenant_id("Tc")
    body = {"tenantId": tenant_id, "tenantName": "Shop", "tags": []}
    assert_ok(await env.http.post("/api/v1/tenants", headers=env.user(tenant_id), json=body), 201)
    for variant in (tenant_id.lower(), tenant_id.upper(), tenant_id.swapcase()):
        clash = {**body, "tenantId": variant}
        r = await env.http.post("/api/v1/tenants", headers=env.user(variant), json=clash)
        error = assert_error(r, 409, "407007")
        assert tenant_id in error["message"]
        assert env.stack.db_name("terminal", variant) not in await env.mongo.list_database_names()
    # The first keeps its case and is intact.
    r = await env.http.get(f"/api/v1/tenants/{tenant_id}", headers=env.user(tenant_id))
    assert assert_ok(r)["data"]["tenantId"] == tenant_id


async def test_create_tenant_with_an_account_token(env) -> None:
    admin = await register_tenant_admin(env.stack.url("account"))
    body = {"tenantId": admin.tenant_id, "tenantName": "Shop", "tags": []}
    r = await env.http.post("/api/v1/tenants", headers=admin.headers, json=body)
    assert_ok(r, 201)


async def test_create_tenant_refusals_write_nothing(env) -> None:
    tenant_id = new_tenant_id("TT")
    body = {"tenantId": tenant_id, "tenantName": "Shop", "tags": []}
    assert_error(await env.http.post("/api/v1/tenants", json=body), 401)
    bad = {"Authorization": "Bearer not-a-token"}
    assert_error(await env.http.post("/api/v1/tenants", headers=bad, json=body), 401)
    other = env.user(new_tenant_id("TT"))
    assert_error(await env.http.post("/api/v1/tenants", headers=other, json=body), 403)
    clerk = env.user(tenant_id, roles=("user",))
    assert_error(await env.http.post("/api/v1/tenants", headers=clerk, json=body), 403)
    service = env.service_headers(tenant_id)
    assert_error(await env.http.post("/api/v1/tenants", headers=service, json=body), 403)
    r = await env.http.post(
        "/api/v1/tenants", headers=env.user(tenant_id), json={"tenantId": tenant_id}
    )
    assert_error(r, 422)
    assert await env.db(tenant_id).list_collection_names() == []


async def test_get_update_delete_tenant(world) -> None:
    env, t = world.env, world.tenant_id
    r = await env.http.get(f"/api/v1/tenants/{t}", headers=world.admin)
    assert assert_ok(r)["data"]["stores"][0]["storeCode"] == world.store_code
    # The terminal reads its tenant with its API key.
    r = await env.http.get(
        f"/api/v1/tenants/{t}", headers=world.key, params={"terminal_id": world.terminal_id}
    )
    assert_ok(r)
    r = await env.http.put(
        f"/api/v1/tenants/{t}", headers=world.admin, json={"tenantName": "Renamed", "tags": []}
    )
    data = assert_ok(r)["data"]
    assert data["tenantName"] == "Renamed" and data["lastUpdateDatetime"]
    # A terminal may not change its tenant.
    r = await env.http.put(
        f"/api/v1/tenants/{t}",
        headers=world.key,
        params={"terminal_id": world.terminal_id},
        json={"tenantName": "X", "tags": []},
    )
    assert_error(r, 403)
    other = env.user(new_tenant_id("TT"))
    assert_error(await env.http.get(f"/api/v1/tenants/{t}", headers=other), 403)
    assert_error(await env.http.delete(f"/api/v1/tenants/{t}", headers=other), 403)
    assert_error(await env.http.get(f"/api/v1/tenants/{t}"), 401)
    r = await env.http.delete(f"/api/v1/tenants/{t}", headers=world.admin)
    assert assert_ok(r)["data"] == {"tenantId": t}
    assert_error(await env.http.get(f"/api/v1/tenants/{t}", headers=world.admin), 404, "407001")
    assert_error(await env.http.delete(f"/api/v1/tenants/{t}", headers=world.admin), 404, "407001")
    r = await env.http.put(
        f"/api/v1/tenants/{t}", headers=world.admin, json={"tenantName": "X", "tags": []}
    )
    assert_error(r, 404, "407001")


async def test_stores_crud_and_refusals(world) -> None:
    env, t = world.env, world.tenant_id
    base = f"/api/v1/tenants/{t}/stores"
    for code, name in (("B2", "Beta"), ("A1", "Alpha")):
        r = await env.http.post(
            base, headers=world.admin, json={"storeCode": code, "storeName": name}
        )
        assert_ok(r, 201)
    r = await env.http.post(base, headers=world.admin, json={"storeCode": "A1", "storeName": "x"})
    assert_error(r, 409, "407102")
    body = assert_ok(await env.http.get(base, headers=world.admin, params={"limit": 2}))
    assert [s["storeCode"] for s in body["data"]] == ["A1", "B2"]
    assert body["metadata"]["total"] == 3
    body = assert_ok(
        await env.http.get(base, headers=world.admin, params={"sort": "storeName:-1", "limit": 1})
    )
    assert body["data"][0]["storeName"] == "Main store"
    assert_error(await env.http.get(base, headers=world.admin, params={"sort": "bogus:1"}), 400)
    r = await env.http.get(
        f"{base}/A1", headers=world.key, params={"terminal_id": world.terminal_id}
    )
    store = assert_ok(r)["data"]
    assert store["status"] == "Idle" and store["businessDate"] is None
    assert_error(await env.http.get(f"{base}/ZZ", headers=world.admin), 404, "407101")
    r = await env.http.put(
        f"{base}/A1",
        headers=world.admin,
        json={"storeName": "Alpha 2", "status": "Opened", "businessDate": "20250105"},
    )
    data = assert_ok(r)["data"]
    assert (data["storeName"], data["status"], data["businessDate"]) == (
        "Alpha 2",
        "Opened",
        "20250105",
    )
    r = await env.http.put(
        f"{base}/A1", headers=world.admin, json={"storeName": "x", "status": "Bad"}
    )
    assert_error(r, 422)
    r = await env.http.put(f"{base}/ZZ", headers=world.admin, json={"storeName": "x"})
    assert_error(r, 404, "407101")
    before = await env.snapshot(t)
    clerk = env.user(t, roles=("user",))
    assert_error(
        await env.http.post(base, headers=clerk, json={"storeCode": "C", "storeName": "c"}), 403
    )
    assert_error(
        await env.http.delete(
            f"{base}/A1", headers=world.key, params={"terminal_id": world.terminal_id}
        ),
        403,
    )
    other = env.user(new_tenant_id("TT"))
    assert_error(
        await env.http.post(base, headers=other, json={"storeCode": "C", "storeName": "c"}), 403
    )
    assert await env.snapshot(t) == before
    # A store with terminals cannot be deleted; an empty one can, once.
    assert_error(
        await env.http.delete(f"{base}/{world.store_code}", headers=world.admin), 400, "407104"
    )
    r = await env.http.delete(f"{base}/A1", headers=world.admin)
    assert assert_ok(r)["data"] == {"storeCode": "A1"}
    assert_error(await env.http.delete(f"{base}/A1", headers=world.admin), 404, "407101")


async def test_stores_of_unknown_tenant(env) -> None:
    t = new_tenant_id("TT")
    base = f"/api/v1/tenants/{t}/stores"
    r = await env.http.post(base, headers=env.user(t), json={"storeCode": "A", "storeName": "a"})
    assert_error(r, 404, "407001")
    assert_error(await env.http.get(base, headers=env.user(t)), 404, "407001")
