"""Settings: CRUD, JSON normalization and the resolution order
store + terminal -> store -> tenant-wide -> default."""

from __future__ import annotations

import httpx

from kugelpos.testkit.testing import assert_error, assert_ok

from .conftest import Tenant


async def value(md: httpx.AsyncClient, tenant: Tenant, name: str, store: str, no: int) -> str:
    r = await md.get(
        f"{tenant.base}/settings/{name}/value",
        params={"store_code": store, "terminal_no": no},
        headers=await tenant.till(store, no),
    )
    return assert_ok(r)["data"]["value"]


async def test_resolution_order(md: httpx.AsyncClient, tenant: Tenant) -> None:
    body = {
        "name": "RECEIPT_NO_START_VALUE",
        "defaultValue": "default",
        "values": [
            {"storeCode": "S1", "terminalNo": 1, "value": "s1-t1"},
            {"storeCode": "S1", "terminalNo": None, "value": "s1"},
            {"storeCode": None, "terminalNo": None, "value": "tenant"},
            {"storeCode": "S2", "terminalNo": 5, "value": "s2-t5"},
        ],
    }
    assert_ok(await md.post(f"{tenant.base}/settings", json=body, headers=tenant.admin), 201)
    name = body["name"]
    assert await value(md, tenant, name, "S1", 1) == "s1-t1"  # store + terminal
    assert await value(md, tenant, name, "S1", 2) == "s1"  # store
    assert await value(md, tenant, name, "S2", 5) == "s2-t5"
    assert await value(md, tenant, name, "S2", 6) == "tenant"  # tenant-wide
    assert await value(md, tenant, name, "S3", 1) == "tenant"

    # Without the tenant-wide entry the default applies; changes are seen at once (cache).
    update = {"defaultValue": "default", "values": body["values"][:2]}
    assert_ok(await md.put(f"{tenant.base}/settings/{name}", json=update, headers=tenant.admin))
    assert await value(md, tenant, name, "S3", 1) == "default"
    assert await value(md, tenant, name, "S1", 9) == "s1"

    r = await md.get(
        f"{tenant.base}/settings/{name}/value", params={"store_code": "S1"}, headers=tenant.admin
    )
    assert_error(r, 422)
    r = await md.get(
        f"{tenant.base}/settings/NOPE/value",
        params={"store_code": "S1", "terminal_no": 1},
        headers=tenant.admin,
    )
    assert_error(r, 404)


async def test_settings_crud_and_normalization(md: httpx.AsyncClient, tenant: Tenant) -> None:
    url = f"{tenant.base}/settings"
    body = {
        "name": "RECEIPT_HEADERS",
        "defaultValue": "['Thank you', 'Come again']",
        "values": [{"storeCode": "S1", "value": '{"a": 1,"b":[true, null]}'}],
    }
    data = assert_ok(await md.post(url, json=body, headers=tenant.admin), 201)["data"]
    assert data["defaultValue"] == '["Thank you", "Come again"]'
    assert data["values"] == [
        {"storeCode": "S1", "terminalNo": None, "value": '{"a": 1, "b": [true, null]}'}
    ]
    assert_error(await md.post(url, json=body, headers=tenant.admin), 409)

    got = assert_ok(await md.get(f"{url}/RECEIPT_HEADERS", headers=await tenant.till()))["data"]
    assert got["defaultValue"] == '["Thank you", "Come again"]'

    for bad_values in (
        [{"storeCode": None, "terminalNo": 3, "value": "x"}],  # would never match
        [{"storeCode": "S1", "value": "a"}, {"storeCode": "S1", "value": "b"}],  # ambiguous
    ):
        r = await md.post(
            url,
            json={"name": "BAD", "defaultValue": "x", "values": bad_values},
            headers=tenant.admin,
        )
        assert_error(r, 422)
    assert_error(
        await md.post(url, json={"name": "NOVALUES", "defaultValue": "x"}, headers=tenant.admin),
        422,
    )

    update = {"defaultValue": "[broken", "values": []}
    updated = assert_ok(await md.put(f"{url}/RECEIPT_HEADERS", json=update, headers=tenant.admin))
    assert updated["data"]["defaultValue"] == "[broken" and updated["data"]["values"] == []
    assert_error(await md.put(f"{url}/NOPE", json=update, headers=tenant.admin), 404)

    assert_ok(
        await md.post(
            url, json={"name": "A_SETTING", "defaultValue": "1", "values": []}, headers=tenant.admin
        ),
        201,
    )
    listed = assert_ok(await md.get(url, params={"sort": "name:1"}, headers=tenant.admin))
    names = [s["name"] for s in listed["data"]]
    assert names == sorted(names) and "A_SETTING" in names
    page = assert_ok(
        await md.get(url, params={"limit": 1, "sort": "name:-1"}, headers=tenant.admin)
    )
    assert len(page["data"]) == 1 and page["data"][0]["name"] == max(names)

    r = await md.delete(f"{url}/RECEIPT_HEADERS", headers=tenant.admin)
    assert assert_ok(r)["data"] == {"name": "RECEIPT_HEADERS"}
    assert_error(await md.get(f"{url}/RECEIPT_HEADERS", headers=tenant.admin), 404)
    assert_error(await md.delete(f"{url}/RECEIPT_HEADERS", headers=tenant.admin), 404)
