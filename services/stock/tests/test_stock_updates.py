"""The one stock update (§B3) through the manual API: exact, atomic, history consistent."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import httpx

from kugelpos.testkit.testing import assert_error, assert_ok

from .conftest import Tenant, history, new_store, quantity


async def update(client, tenant: Tenant, store: str, item: str, change, kind="purchase", **extra):
    body = {"quantityChange": change, "updateType": kind, **extra}
    return await client.put(tenant.stock(store, f"/{item}/update"), json=body, headers=tenant.admin)


async def test_update_creates_unknown_item_and_allows_negative_stock(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    store = new_store()
    body = assert_ok(await update(client, tenant, store, "NEW-1", -3, "sale", note="till"))
    assert body["message"] == "Stock updated successfully"
    assert body["operation"] == "update_stock"
    data = body["data"]
    assert data["beforeQuantity"] == 0 and data["afterQuantity"] == -3
    assert data["quantityChange"] == -3
    assert set(data["flags"]) == {"new_item", "negative_stock"}
    assert data["updateType"] == "sale" and data["note"] == "till"
    # It shows in the low-stock list (negative), without a minimum set.
    low = assert_ok(await client.get(tenant.stock(store, "/low"), headers=tenant.admin))
    assert [r["itemCode"] for r in low["data"]["data"]] == ["NEW-1"]
    assert low["data"]["metadata"] == {
        "total": 1,
        "page": 1,
        "limit": 1,
        "sort": None,
        "filter": None,
    }
    assert low["metadata"] is None
    second = assert_ok(await update(client, tenant, store, "NEW-1", 5))["data"]
    assert second["flags"] == [] and second["afterQuantity"] == 2


async def test_fractions_are_exact(client: httpx.AsyncClient, tenant: Tenant) -> None:
    store = new_store()
    for change in (0.1, 0.2, "0.3", 1e-4):
        assert_ok(await update(client, tenant, store, "KG", change, "adjustment"))
    assert await quantity(client, tenant, store, "KG") == 0.6001


async def test_ten_concurrent_updates_of_one_item_lose_nothing(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    store = new_store()
    changes = [i + 1 for i in range(10)]  # distinct, so the chain is checkable
    results = await asyncio.gather(*(update(client, tenant, store, "HOT", c) for c in changes))
    for r in results:
        assert_ok(r)
    assert await quantity(client, tenant, store, "HOT") == sum(changes)
    rows = await history(client, tenant, store, "HOT")
    assert len(rows) == 10
    chain = sorted(rows, key=lambda row: row["beforeQuantity"])
    level = 0
    for row in chain:
        assert row["beforeQuantity"] == level
        assert row["afterQuantity"] == level + row["quantityChange"]
        level = row["afterQuantity"]
    assert level == sum(changes)
    assert sorted(r["quantityChange"] for r in rows) == changes


async def test_bad_input_is_refused_and_writes_nothing(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    store = new_store()
    url = tenant.stock(store, "/BAD/update")
    for body in (
        {"quantityChange": "many", "updateType": "purchase"},
        {"quantityChange": "NaN", "updateType": "purchase"},
        {"quantityChange": "Infinity", "updateType": "purchase"},
        {"quantityChange": True, "updateType": "purchase"},
        {"quantityChange": 1, "updateType": "theft"},
        {"quantityChange": 1, "updateType": "receipt"},  # only POST .../receipts (its cost)
        {"updateType": "purchase"},
        {"quantityChange": 1},
    ):
        r = await client.put(url, json=body, headers=tenant.admin)
        assert 400 <= r.status_code < 500, r.text
        assert_error(r, r.status_code)
    for raw in (b"Infinity", b"NaN", b"1e400", b"-1e400"):
        r = await client.put(
            url,
            content=b'{"quantityChange": ' + raw + b', "updateType": "sale"}',
            headers=tenant.admin | {"Content-Type": "application/json"},
        )
        assert 400 <= r.status_code < 500, r.text
    for path, body in (
        ("/BAD/minimum", {"minimumQuantity": -1}),
        ("/BAD/reorder", {"reorderPoint": -1, "reorderQuantity": 5}),
        ("/BAD/reorder", {"reorderPoint": 1, "reorderQuantity": -5}),
    ):
        assert_error(
            await client.put(tenant.stock(store, path), json=body, headers=tenant.admin), 422
        )
    assert_error(await client.get(tenant.stock(store, "/BAD"), headers=tenant.admin), 404, "414001")
    listing = assert_ok(await client.get(tenant.stock(store), headers=tenant.admin))
    assert listing["data"]["data"] == []


async def test_credentials(client: httpx.AsyncClient, tenant: Tenant, codec) -> None:
    from .conftest import setup_tenant

    other = await setup_tenant(client, codec)
    store = new_store()
    url = tenant.stock(store, "/X/update")
    body = {"quantityChange": 1, "updateType": "purchase"}
    assert_error(await client.put(url, json=body), 401, "200001")
    assert_error(await client.put(url, json=body, headers=other.admin), 403, "200002")
    assert_error(await client.get(tenant.stock(store), headers=other.admin), 403)
    assert await quantity(client, tenant, store, "X") is None
    # A terminal of the tenant may adjust (v1); the terminal id is the default operator.
    r = await client.put(
        url,
        json=body,
        headers=await tenant.till(store),
        params={"terminal_id": f"{tenant.tenant_id}-{store}-1"},
    )
    assert assert_ok(r)["data"]["operatorId"] == f"{tenant.tenant_id}-{store}-1"


async def test_lists_thresholds_and_paging(client: httpx.AsyncClient, tenant: Tenant) -> None:
    store = new_store()
    for code, qty in (("A", 5), ("B", 30), ("C", 10)):
        assert_ok(await update(client, tenant, store, code, qty, "initial"))
    r = await client.put(
        tenant.stock(store, "/A/minimum"), json={"minimumQuantity": 10}, headers=tenant.admin
    )
    body = assert_ok(r)
    assert body["data"] is None and body["message"] == "Minimum quantity set successfully"
    r = await client.put(
        tenant.stock(store, "/C/reorder"),
        json={"reorderPoint": 10, "reorderQuantity": 50},
        headers=tenant.admin,
    )
    assert assert_ok(r)["message"] == "Reorder parameters set successfully"
    # A threshold on an item without stock creates its row at 0.
    assert_ok(
        await client.put(
            tenant.stock(store, "/D/minimum"), json={"minimum_quantity": 2}, headers=tenant.admin
        )
    )
    low = assert_ok(await client.get(tenant.stock(store, "/low"), headers=tenant.admin))
    assert [r["itemCode"] for r in low["data"]["data"]] == ["A", "D"]
    reorder = assert_ok(
        await client.get(tenant.stock(store, "/reorder-alerts"), headers=tenant.admin)
    )
    assert reorder["operation"] == "get_reorder_alerts"
    assert [
        (r["itemCode"], r["reorderPoint"], r["reorderQuantity"]) for r in reorder["data"]["data"]
    ] == [("C", 10, 50)]
    page = assert_ok(
        await client.get(tenant.stock(store), params={"page": 2, "limit": 2}, headers=tenant.admin)
    )
    assert [r["itemCode"] for r in page["data"]["data"]] == ["C", "D"]
    assert page["data"]["metadata"]["total"] == 4 and page["data"]["metadata"]["page"] == 2
    assert page["message"] == "Stock list retrieved successfully"
    for params in ({"limit": 0}, {"limit": 1001}, {"page": 0}):
        assert_error(
            await client.get(tenant.stock(store), params=params, headers=tenant.admin), 422
        )
    row = assert_ok(await client.get(tenant.stock(store, "/A"), headers=tenant.admin))["data"]
    assert row["minimumQuantity"] == 10 and row["currentQuantity"] == 5
    assert row["lastUpdated"]


async def test_tenant_setup_refuses_a_plain_user_and_a_terminal(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    """Regression (access matrix, issue 12): any user of the tenant could run set-up; it needs
    the admin or manager role (or a service token), and a till never may."""
    clerk = tenant.codec.issue_user_token(
        username="clerk",
        tenant_id=tenant.tenant_id,
        is_superuser=False,
        roles=["user"],
        lifetime=timedelta(hours=1),
    )
    mine = {"tenantId": tenant.tenant_id}
    for headers in ({"Authorization": f"Bearer {clerk}"}, await tenant.till()):
        assert_error(await client.post("/api/v1/tenants", json=mine, headers=headers), 403)
    assert_ok(await client.post("/api/v1/tenants", json=mine, headers=tenant.admin), 201)
