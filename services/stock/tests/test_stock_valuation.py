"""A store's stock at cost, now or as a snapshot recorded it: quantity x moving-average cost."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import httpx
from pymongo import AsyncMongoClient

from kugelpos.devstack.stack import Stack
from kugelpos.testkit.testing import assert_error, assert_ok

from .conftest import Tenant, new_store, setup_tenant
from .test_stock_adjustments import adjust, line
from .test_stock_receipts import delivery, receive


async def valuation(
    client: httpx.AsyncClient, tenant: Tenant, store: str, headers=None, snapshot_id=None
) -> dict:
    r = await client.get(
        tenant.stock(store, "/valuation"),
        params={"snapshotId": snapshot_id} if snapshot_id is not None else None,
        headers=headers if headers is not None else tenant.admin,
    )
    body = assert_ok(r)
    assert body["operation"] == "get_stock_valuation"
    return body["data"]


async def test_valuation_is_quantity_times_average_cost(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    store = new_store()
    assert (await valuation(client, tenant, store))["items"] == []
    assert_ok(
        await receive(
            client,
            tenant,
            store,
            delivery("PO-V1", [("A", 10, "2.5"), ("B", 3, "0.3333"), ("C", "0.5", "1.0001")]),
        ),
        201,
    )
    assert_ok(await receive(client, tenant, store, delivery("PO-V2", [("A", 6, 4)])), 201)
    # A: (10 x 2.5 + 6 x 4) / 16 = 49 / 16 = 3.0625; then 1 broken: 15 x 3.0625 = 45.9375
    # B: 3 x 0.3333 = 0.9999; C: 0.5 x 1.0001 = 0.50005 -> 0.5001 (half-up at 4 decimals)
    # D: never received, -2 (an adjustment) at cost 0
    assert_ok(await adjust(client, tenant, store, [line("A", -1), line("D", -2)]), 201)
    data = await valuation(client, tenant, store)
    assert data["storeCode"] == store and data["tenantId"] == tenant.tenant_id
    items = {i["itemCode"]: i for i in data["items"]}
    assert [i["itemCode"] for i in data["items"]] == ["A", "B", "C", "D"]
    assert (items["A"]["quantity"], items["A"]["averageCost"], items["A"]["value"]) == (
        15,
        3.0625,
        45.9375,
    )
    assert (items["B"]["averageCost"], items["B"]["value"]) == (0.3333, 0.9999)
    assert (items["C"]["quantity"], items["C"]["value"]) == (0.5, 0.5001)
    assert (items["D"]["quantity"], items["D"]["averageCost"], items["D"]["value"]) == (-2, 0, 0)
    # The total is the sum of the items' values, exactly.
    total = sum(Decimal(str(i["value"])) for i in data["items"])
    assert Decimal(str(data["totalValue"])) == total == Decimal("47.4375")


async def test_valuation_is_read_by_the_tenant_only(
    client: httpx.AsyncClient, tenant: Tenant, codec
) -> None:
    store = new_store()
    assert_ok(await receive(client, tenant, store, delivery("PO-T", [("T", 2, 5)])), 201)
    till = await tenant.till(store)
    assert (await valuation(client, tenant, store, headers=till))["totalValue"] == 10
    other = await setup_tenant(client, codec)
    r = await client.get(tenant.stock(store, "/valuation"), headers=other.admin)
    assert_error(r, 403, "200002")
    assert_error(await client.get(tenant.stock(store, "/valuation")), 401, "200001")


async def test_the_stock_read_and_its_lists_carry_the_average_cost(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    store = new_store()
    assert_ok(
        await receive(
            client, tenant, store, delivery("PO-AC1", [("A", 10, "2.5"), ("B", 3, "0.3333")])
        ),
        201,
    )
    assert_ok(await receive(client, tenant, store, delivery("PO-AC2", [("A", 7, "1.0001")])), 201)
    assert_ok(await adjust(client, tenant, store, [line("D", -2)]), 201)
    # A: (10 x 2.5 + 7 x 1.0001) / 17 = 32.0007 / 17 = 1.88239... -> 1.8824 (stored units)
    one = assert_ok(await client.get(tenant.stock(store, "/A"), headers=tenant.admin))["data"]
    assert Decimal(str(one["averageCost"])) == Decimal("1.8824")
    assert one["currentQuantity"] == 17
    listing = assert_ok(await client.get(tenant.stock(store), headers=tenant.admin))["data"]
    costs = {r["itemCode"]: r["averageCost"] for r in listing["data"]}
    assert costs == {"A": 1.8824, "B": 0.3333, "D": 0}
    # The same figure the valuation uses, item by item.
    valued = {
        i["itemCode"]: i["averageCost"] for i in (await valuation(client, tenant, store))["items"]
    }
    assert costs == valued
    # The low-stock list (D is negative) has the same row shape.
    low = assert_ok(await client.get(tenant.stock(store, "/low"), headers=tenant.admin))["data"]
    assert [(r["itemCode"], r["averageCost"]) for r in low["data"]] == [("D", 0)]


async def test_a_snapshot_is_valued_at_the_costs_it_recorded(
    stack: Stack, client: httpx.AsyncClient, tenant: Tenant
) -> None:
    store = new_store()
    assert_ok(
        await receive(client, tenant, store, delivery("PO-S1", [("A", 10, "2.5"), ("B", 3, 1)])),
        201,
    )
    assert_ok(await adjust(client, tenant, store, [line("D", -2)]), 201)
    snap = assert_ok(await client.post(tenant.stock(store, "/snapshot"), headers=tenant.admin), 201)
    snapshot_id = snap["data"]["id"]
    # After the snapshot: A's cost moves to (10 x 2.5 + 6 x 4) / 16 = 3.0625, B is sold down.
    assert_ok(await receive(client, tenant, store, delivery("PO-S2", [("A", 6, 4)])), 201)
    assert_ok(await adjust(client, tenant, store, [line("B", -1)]), 201)
    now = await valuation(client, tenant, store)
    assert now["snapshotId"] is None and now["costsRecorded"] is True
    assert Decimal(str(now["totalValue"])) == Decimal("51")  # 16 x 3.0625 + 2 x 1

    then = await valuation(client, tenant, store, snapshot_id=snapshot_id)
    assert then["snapshotId"] == snapshot_id and then["costsRecorded"] is True
    assert datetime.fromisoformat(then["asOf"]) == datetime.fromisoformat(
        snap["data"]["generateDateTime"]
    )
    assert [
        (i["itemCode"], i["quantity"], i["averageCost"], i["value"]) for i in then["items"]
    ] == [
        ("A", 10, 2.5, 25),
        ("B", 3, 1, 3),
        ("D", -2, 0, 0),
    ]
    assert then["totalValue"] == 28
    # The snapshot itself shows the costs it recorded (beyond v1), not today's.
    r = await client.get(tenant.stock(store, f"/snapshot/{snapshot_id}"), headers=tenant.admin)
    recorded = assert_ok(r)["data"]["stocks"]
    assert [(i["itemCode"], i["quantity"], i["averageCost"]) for i in recorded] == [
        ("A", 10, 2.5),
        ("B", 3, 1),
        ("D", -2, 0),
    ]

    # Unknown, malformed, or another store's snapshot: stock's snapshot-not-found.
    for store_code, bad in ((store, "0" * 24), (store, "nope"), (new_store(), snapshot_id)):
        r = await client.get(
            tenant.stock(store_code, "/valuation"),
            params={"snapshotId": bad},
            headers=tenant.admin,
        )
        assert_error(r, 404, "414202")
    # Another tenant is refused before any lookup.
    other = await setup_tenant(client, tenant.codec)
    r = await client.get(
        tenant.stock(store, "/valuation"), params={"snapshotId": snapshot_id}, headers=other.admin
    )
    assert_error(r, 403, "200002")

    # A snapshot taken before snapshots recorded costs: its items at 0, and it says so.
    mongo: AsyncMongoClient = AsyncMongoClient(stack.mongo_uri_for("stock"), tz_aware=True)
    try:
        snapshots = mongo[stack.db_name("stock", tenant.tenant_id)].stock_snapshots
        stored = await snapshots.find_one({"store_code": store})
        assert stored is not None
        legacy = [
            {k: v for k, v in item.items() if k != "average_cost_units"}
            for item in stored["stocks"]
        ]
        result = await snapshots.update_one({"_id": stored["_id"]}, {"$set": {"stocks": legacy}})
        assert result.modified_count == 1
    finally:
        await mongo.close()
    old = await valuation(client, tenant, store, snapshot_id=snapshot_id)
    assert old["costsRecorded"] is False
    assert [(i["itemCode"], i["quantity"], i["value"]) for i in old["items"]] == [
        ("A", 10, 0),
        ("B", 3, 0),
        ("D", -2, 0),
    ]
    assert old["totalValue"] == 0
    r = await client.get(tenant.stock(store, f"/snapshot/{snapshot_id}"), headers=tenant.admin)
    assert [i["averageCost"] for i in assert_ok(r)["data"]["stocks"]] == [None, None, None]
