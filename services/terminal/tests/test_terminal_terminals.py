"""Terminals: create/register, list, get, delete, description, function mode, API keys,
terminal JWTs; every refusal, with nothing written."""

from __future__ import annotations

import hashlib

import jwt

from kugelpos.testkit.testing import assert_error, assert_ok, new_tenant_id


async def test_create_returns_the_key_once_and_stores_only_its_hash(world) -> None:
    env = world.env
    assert len(world.api_key) == 43
    stored = await env.db(world.tenant_id)["info_terminal"].find_one(
        {"terminal_id": world.terminal_id}
    )
    assert "api_key" not in stored
    assert stored["api_key_hash"] == hashlib.sha256(world.api_key.encode()).hexdigest()
    assert world.terminal_id == f"{world.tenant_id}-{world.store_code}-1"
    # Never again: not by GET, not in the list.
    for r in (
        await env.http.get(world.path, headers=world.admin),
        await env.http.get(world.path, headers=world.key),
        await env.http.get("/api/v1/terminals", headers=world.admin),
    ):
        assert world.api_key not in r.text
        assert '"apiKey":null' in r.text.replace(" ", "")


async def test_register_is_create_and_duplicates_are_409(world) -> None:
    env = world.env
    body = {"storeCode": world.store_code, "terminalNo": 2, "description": "Register 2"}
    r = await env.http.post("/api/v1/terminals/register", headers=world.admin, json=body)
    data = assert_ok(r, 201)["data"]
    assert data["apiKey"] and data["functionMode"] == "MainMenu" and data["status"] == "Idle"
    assert (data["openCounter"], data["businessCounter"]) == (0, 0)
    r = await env.http.post("/api/v1/terminals", headers=world.admin, json=body)
    assert_error(r, 409, "406002")
    r = await env.http.post(
        "/api/v1/terminals", headers=world.admin, json={**body, "storeCode": "NOPE"}
    )
    assert_error(r, 404, "407101")


async def test_create_refusals_write_nothing(world) -> None:
    env = world.env
    body = {"storeCode": world.store_code, "terminalNo": 7, "description": "x"}
    before = await env.snapshot(world.tenant_id)
    assert_error(await env.http.post("/api/v1/terminals", json=body), 401)
    assert_error(await env.http.post("/api/v1/terminals", headers=world.key, json=body), 401)
    r = await env.http.post(
        "/api/v1/terminals", headers=world.key, params={"terminal_id": world.terminal_id}, json=body
    )
    assert_error(r, 403)
    clerk = env.user(world.tenant_id, roles=("user",))
    assert_error(await env.http.post("/api/v1/terminals", headers=clerk, json=body), 403)
    r = await env.http.post(
        "/api/v1/terminals", headers=world.admin, json={**body, "terminalNo": "x"}
    )
    assert_error(r, 422)
    assert await env.snapshot(world.tenant_id) == before


async def test_list_paginates_and_a_terminal_sees_only_itself(world) -> None:
    env = world.env
    for no in (3, 2):
        await world.add_terminal(no)
    body = assert_ok(
        await env.http.get("/api/v1/terminals", headers=world.admin, params={"limit": 2})
    )
    ids = [t["terminalId"] for t in body["data"]]
    assert ids == sorted(ids) and len(ids) == 2
    meta = body["metadata"]
    assert (meta["total"], meta["page"], meta["limit"]) == (3, 1, 2)
    assert meta["sort"] == "terminal_id:1"
    assert meta["filter"] == {"tenant_id": world.tenant_id}
    body = assert_ok(
        await env.http.get("/api/v1/terminals", headers=world.admin, params={"limit": 2, "page": 2})
    )
    assert len(body["data"]) == 1
    body = assert_ok(
        await env.http.get(
            "/api/v1/terminals",
            headers=world.admin,
            params={"store_code": world.store_code, "sort": "terminalNo:-1"},
        )
    )
    assert [t["terminalNo"] for t in body["data"]] == [3, 2, 1]
    body = assert_ok(
        await env.http.get(
            "/api/v1/terminals", headers=world.key, params={"terminal_id": world.terminal_id}
        )
    )
    assert [t["terminalId"] for t in body["data"]] == [world.terminal_id]
    assert_error(await env.http.get("/api/v1/terminals", params={"sort": "x:2"}), 401)
    assert_error(
        await env.http.get("/api/v1/terminals", headers=world.admin, params={"sort": "x:1"}), 400
    )
    assert_error(
        await env.http.get("/api/v1/terminals", headers=world.admin, params={"limit": -1}), 422
    )


async def test_get_terminal_credentials(world) -> None:
    env = world.env
    other_id, other_key = await world.add_terminal(5)
    # What other services do to verify a key: GET with X-API-KEY and ?terminal_id=.
    r = await env.http.get(world.path, headers=world.key, params={"terminal_id": world.terminal_id})
    assert assert_ok(r)["data"]["terminalId"] == world.terminal_id
    assert_ok(await env.http.get(world.path, headers=env.service_headers(world.tenant_id)))
    # Wrong or missing key: 401. Another terminal's key: 401 (it is not this terminal's key).
    assert_error(await env.http.get(world.path, headers={"X-API-KEY": "wrong"}), 401)
    assert_error(await env.http.get(world.path, headers={"X-API-KEY": other_key}), 401)
    assert_error(await env.http.get(world.path), 401)
    # Another terminal's own credential reaching this one: 403.
    r = await env.http.get(
        world.path, headers={"X-API-KEY": other_key}, params={"terminal_id": other_id}
    )
    assert r.status_code in (401, 403)
    token = assert_ok(await env.http.post("/api/v1/auth/token", headers={"X-API-KEY": other_key}))[
        "data"
    ]["access_token"]
    r = await env.http.get(world.path, headers={"Authorization": f"Bearer {token}"})
    assert_error(r, 403)
    # Another tenant: 403; unknown terminal of my tenant: 404.
    other = env.user(new_tenant_id("TT"))
    assert_error(await env.http.get(world.path, headers=other), 403)
    unknown = f"/api/v1/terminals/{world.tenant_id}-{world.store_code}-99"
    assert_error(await env.http.get(unknown, headers=world.admin), 404, "406001")
    assert_error(await env.http.get(unknown, headers={"X-API-KEY": world.api_key}), 401)


async def test_notify_key_is_accepted_nowhere_but_delivery_status(world) -> None:
    env = world.env
    notify = {"X-API-KEY": env.stack.pubsub_key}
    assert_error(await env.http.get(world.path, headers=notify), 401)
    assert_error(
        await env.http.post(
            "/api/v1/auth/token", headers=notify, params={"terminal_id": world.terminal_id}
        ),
        401,
    )
    assert_error(await env.http.post("/api/v1/auth/token", headers=notify), 401)
    assert_error(await env.http.post(f"{world.path}/open", headers=notify), 401)


async def test_terminal_token(world) -> None:
    env = world.env
    assert_error(await env.http.post("/api/v1/auth/token"), 401)
    assert_error(await env.http.post("/api/v1/auth/token", headers={"X-API-KEY": "nope"}), 401)
    for params in ({}, {"terminal_id": world.terminal_id}):
        r = await env.http.post("/api/v1/auth/token", headers=world.key, params=params)
        data = assert_ok(r)["data"]
        assert data["token_type"] == "bearer" and data["expires_in"] == 24 * 3600
        claims = jwt.decode(data["access_token"], env.stack.secret_key, algorithms=["HS256"])
        assert claims["token_type"] == "terminal"
        assert claims["terminal_id"] == world.terminal_id
        assert (claims["tenant_id"], claims["store_code"]) == (world.tenant_id, world.store_code)
        assert claims["terminal_no"] == 1 and claims["status"] == "Idle"
        assert claims["open_counter"] == 0 and "staff_id" not in claims
    other_id, _ = await world.add_terminal(6)
    r = await env.http.post(
        "/api/v1/auth/token", headers=world.key, params={"terminal_id": other_id}
    )
    assert_error(r, 401)
    # The JWT works wherever the key does, for this terminal only.
    bearer = {"Authorization": f"Bearer {data['access_token']}"}
    assert_ok(await env.http.get(world.path, headers=bearer))
    assert_error(await env.http.get(f"/api/v1/terminals/{other_id}", headers=bearer), 403)


async def test_regenerate_api_key(world) -> None:
    env = world.env
    r = await env.http.post(f"{world.path}/api-key", headers=world.key)
    assert_error(r, 403)
    r = await env.http.post(f"{world.path}/api-key", headers=world.admin)
    new_key = assert_ok(r)["data"]["apiKey"]
    assert new_key and new_key != world.api_key
    assert_error(await env.http.get(world.path, headers=world.key), 401)
    assert_error(await env.http.post("/api/v1/auth/token", headers=world.key), 401)
    assert_ok(await env.http.get(world.path, headers={"X-API-KEY": new_key}))
    assert_ok(await env.http.post("/api/v1/auth/token", headers={"X-API-KEY": new_key}))
    unknown = f"/api/v1/terminals/{world.tenant_id}-{world.store_code}-99/api-key"
    assert_error(await env.http.post(unknown, headers=world.admin), 404, "406001")


async def test_description_and_function_mode(world) -> None:
    env = world.env
    r = await env.http.patch(
        f"{world.path}/description", headers=world.key, json={"description": "Front desk"}
    )
    assert assert_ok(r)["data"]["description"] == "Front desk"
    r = await env.http.patch(
        f"{world.path}/function_mode", headers=world.key, json={"functionMode": "Reports"}
    )
    assert assert_ok(r)["data"]["functionMode"] == "Reports"
    # Sales needs an open terminal; unknown modes are invalid input.
    r = await env.http.patch(
        f"{world.path}/function_mode", headers=world.key, json={"functionMode": "Sales"}
    )
    assert_error(r, 400, "406012")
    r = await env.http.patch(
        f"{world.path}/function_mode", headers=world.key, json={"functionMode": "Dance"}
    )
    assert_error(r, 422)
    assert_ok(await world.open())
    r = await env.http.patch(
        f"{world.path}/function_mode", headers=world.key, json={"functionMode": "OpenTerminal"}
    )
    assert_error(r, 400, "406012")
    r = await env.http.patch(
        f"{world.path}/function_mode", headers=world.admin, json={"functionMode": "Sales"}
    )
    assert assert_ok(r)["data"]["functionMode"] == "Sales"
    # Refusals: other tenant, other terminal, a mere user, no credential.
    other_id, other_key = await world.add_terminal(8)
    before = await env.snapshot(world.tenant_id)
    for headers, params, status in (
        (env.user(new_tenant_id("TT")), {}, 403),
        ({"X-API-KEY": other_key}, {"terminal_id": other_id}, None),
        (env.user(world.tenant_id, roles=("user",)), {}, 403),
        ({}, {}, 401),
    ):
        r = await env.http.patch(
            f"{world.path}/description", headers=headers, params=params, json={"description": "x"}
        )
        assert r.status_code == (status or r.status_code) and r.status_code in (401, 403)
    assert await env.snapshot(world.tenant_id) == before
    unknown = f"/api/v1/terminals/{world.tenant_id}-{world.store_code}-99/description"
    r = await env.http.patch(unknown, headers=world.admin, json={"description": "x"})
    assert_error(r, 404, "406001")


async def test_delete_terminal(world) -> None:
    env = world.env
    assert_error(await env.http.delete(world.path, headers=world.key), 403)
    assert_error(await env.http.delete(world.path, headers=env.user(new_tenant_id("TT"))), 403)
    assert_error(await env.http.delete(world.path), 401)
    r = await env.http.delete(world.path, headers=world.admin)
    assert assert_ok(r)["data"] == {"terminalId": world.terminal_id}
    assert_error(await env.http.get(world.path, headers=world.admin), 404, "406001")
    assert_error(await env.http.delete(world.path, headers=world.admin), 404, "406001")
    # Its key is gone with it.
    assert_error(await env.http.post("/api/v1/auth/token", headers=world.key), 401)
    keys = env.mongo[env.stack.db_name("terminal", "commons")]["terminal_keys"]
    assert await keys.count_documents({"terminal_id": world.terminal_id}) == 0
