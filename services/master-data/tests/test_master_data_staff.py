"""Staff: CRUD, PINs hashed at rest and never returned, PIN verification with lockout."""

from __future__ import annotations

import httpx
from pymongo import AsyncMongoClient

from kugelpos.devstack.stack import Stack
from kugelpos.testkit.testing import assert_error, assert_ok

from .conftest import Tenant


def staff(staff_id: str, **over) -> dict:
    return {"id": staff_id, "name": f"Staff {staff_id}", "pin": "1234", "roles": ["cashier"]} | over


async def test_staff_crud(
    md: httpx.AsyncClient, tenant: Tenant, mongo: AsyncMongoClient, stack: Stack
) -> None:
    url = f"{tenant.base}/staff"
    data = assert_ok(await md.post(url, json=staff("ST-1"), headers=tenant.admin), 201)["data"]
    assert data["id"] == "ST-1" and data["roles"] == ["cashier"]
    assert data["pin"] == "*****" and data["hasPin"] is True
    assert_error(await md.post(url, json=staff("ST-1"), headers=tenant.admin), 409, "500005")

    stored = await mongo[stack.db_name("master-data", tenant.tenant_id)]["master_staff"].find_one(
        {"id": "ST-1"}
    )
    assert "pin" not in stored and stored["pin_hash"].startswith("$2")
    assert "1234" not in str(stored)

    got = assert_ok(await md.get(f"{url}/ST-1", headers=tenant.service))["data"]
    assert got["name"] == "Staff ST-1" and got["pin"] == "*****"

    r = await md.put(
        f"{url}/ST-1", json={"name": "Renamed", "pin": "9999", "roles": []}, headers=tenant.admin
    )
    updated = assert_ok(r)["data"]
    assert updated["name"] == "Renamed" and updated["roles"] == []
    assert updated["lastUpdateDatetime"] is not None
    r = await md.put(f"{url}/ST-1", json={"name": "No pin"}, headers=tenant.admin)
    assert_error(r, 422)
    r = await md.put(
        f"{url}/NOPE", json={"name": "x", "pin": "1", "roles": []}, headers=tenant.admin
    )
    assert_error(r, 404)

    assert assert_ok(await md.delete(f"{url}/ST-1", headers=tenant.admin))["data"] == {
        "staffId": "ST-1"
    }
    assert_error(await md.get(f"{url}/ST-1", headers=tenant.admin), 404)
    assert_error(await md.delete(f"{url}/ST-1", headers=tenant.admin), 404)


async def test_staff_list(md: httpx.AsyncClient, tenant: Tenant) -> None:
    url = f"{tenant.base}/staff"
    for n, name in ((1, "Carol"), (2, "Alice"), (3, "Bob")):
        assert_ok(await md.post(url, json=staff(f"SL-{n}", name=name), headers=tenant.admin), 201)
    body = assert_ok(await md.get(url, params={"sort": "name:1", "limit": 2}, headers=tenant.admin))
    assert [s["name"] for s in body["data"]] == ["Alice", "Bob"]
    assert body["metadata"]["total"] >= 3 and body["metadata"]["limit"] == 2
    assert all(s["pin"] == "*****" for s in body["data"])
    page2 = assert_ok(
        await md.get(url, params={"sort": "name:1", "limit": 2, "page": 2}, headers=tenant.admin)
    )
    assert page2["data"][0]["name"] == "Carol"
    assert_error(await md.get(url, params={"sort": "pin_hash:1"}, headers=tenant.admin), 400)


async def test_verify_pin_and_lockout(md: httpx.AsyncClient, tenant: Tenant) -> None:
    url = f"{tenant.base}/staff"
    assert_ok(await md.post(url, json=staff("PIN-1", pin="4321"), headers=tenant.admin), 201)
    verify = f"{url}/PIN-1/verify-pin"
    good = await md.post(verify, json={"pin": "4321"}, headers=tenant.service)
    assert assert_ok(good)["data"] == {"valid": True}
    assert assert_ok(await md.post(verify, json={"pin": "0000"}, headers=await tenant.till()))[
        "data"
    ] == {"valid": False}
    assert_error(
        await md.post(f"{url}/NOPE/verify-pin", json={"pin": "1"}, headers=tenant.service), 404
    )
    assert_error(await md.post(verify, json={}, headers=tenant.service), 422)
    # Default limit: 5 wrong PINs, then locked (even for the right PIN).
    for _ in range(4):
        assert_ok(await md.post(verify, json={"pin": "0000"}, headers=tenant.service))
    locked = await md.post(verify, json={"pin": "4321"}, headers=tenant.service)
    assert_error(locked, 429, "200003")
    assert locked.headers.get("retry-after")
    # Changing the PIN lifts the lockout.
    r = await md.put(
        f"{url}/PIN-1", json={"name": "x", "pin": "5555", "roles": []}, headers=tenant.admin
    )
    assert_ok(r)
    assert assert_ok(await md.post(verify, json={"pin": "5555"}, headers=tenant.service))[
        "data"
    ] == {"valid": True}
