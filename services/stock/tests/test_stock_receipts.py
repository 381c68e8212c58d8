"""Receiving: a delivery in one transaction, the moving-average cost, a reference once."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import httpx

from kugelpos.testkit.testing import assert_error, assert_ok

from .conftest import Tenant, history, know_lines, new_store, quantity
from .test_stock_adjustments import user_token


def delivery(reference: str, lines, supplier: str = "ACME Foods") -> dict:
    return {
        "supplier": supplier,
        "reference": reference,
        "lines": [{"itemCode": i, "quantity": q, "unitCost": c} for i, q, c in lines],
    }


async def receive(client: httpx.AsyncClient, tenant: Tenant, store: str, body, headers=None):
    await know_lines(tenant, body.get("lines") if isinstance(body, dict) else None)
    return await client.post(
        tenant.stock(store, "/receipts"),
        json=body,
        headers=headers if headers is not None else tenant.admin,
    )


async def test_receipts_move_quantity_and_average_cost(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    store = new_store()
    first = assert_ok(
        await receive(client, tenant, store, delivery("PO-1", [("A", 10, 2.5), ("B", 3, 1)])), 201
    )
    assert first["operation"] == "create_receipt"
    data = first["data"]
    assert data["supplier"] == "ACME Foods" and data["reference"] == "PO-1"
    assert data["totalCost"] == 28  # 10 x 2.5 + 3 x 1
    a = data["lines"][0]
    assert (a["beforeQuantity"], a["afterQuantity"], a["averageCost"]) == (0, 10, 2.5)
    # 4 sold at the till (a manual sale), then 6 more at 4.00:
    # (6 x 2.5 + 6 x 4) / 12 = 39 / 12 = 3.25
    r = await client.put(
        tenant.stock(store, "/A/update"),
        json={"quantityChange": -4, "updateType": "sale"},
        headers=tenant.admin,
    )
    assert_ok(r)
    second = assert_ok(await receive(client, tenant, store, delivery("PO-2", [("A", 6, 4)])), 201)
    line = second["data"]["lines"][0]
    assert (line["beforeQuantity"], line["afterQuantity"], line["averageCost"]) == (6, 12, 3.25)
    # A third at 1.0001 for 7: (12 x 3.25 + 7 x 1.0001) / 19 = 46.0007 / 19 = 2.42108947...
    third = assert_ok(
        await receive(client, tenant, store, delivery("PO-3", [("A", 7, "1.0001")])), 201
    )
    expected = (Decimal(12) * Decimal("3.25") + 7 * Decimal("1.0001")) / 19
    assert Decimal(str(third["data"]["lines"][0]["averageCost"])) == expected.quantize(
        Decimal("0.0001")
    )
    assert third["data"]["lines"][0]["averageCost"] == 2.4211
    assert await quantity(client, tenant, store, "A") == 19
    rows = await history(client, tenant, store, "A")
    receipts = sorted(
        (x for x in rows if x["updateType"] == "receipt"), key=lambda x: x["beforeQuantity"]
    )
    assert [(x["quantityChange"], x["unitCost"], x["averageCost"]) for x in receipts] == [
        (10, 2.5, 2.5),
        (6, 4, 3.25),
        (7, 1.0001, 2.4211),
    ]
    assert {x["referenceId"] for x in receipts} == {"PO-1", "PO-2", "PO-3"}
    assert {x["note"] for x in receipts} == {"ACME Foods"}
    # Read back: by id, and the store's list (newest first).
    got = assert_ok(
        await client.get(
            tenant.stock(store, f"/receipts/{data['receiptId']}"), headers=tenant.admin
        )
    )
    assert got["data"] == data
    listing = assert_ok(await client.get(tenant.stock(store, "/receipts"), headers=tenant.admin))
    assert [x["reference"] for x in listing["data"]["data"]] == ["PO-3", "PO-2", "PO-1"]
    assert listing["data"]["metadata"]["total"] == 3
    assert_error(
        await client.get(tenant.stock(store, "/receipts/nope"), headers=tenant.admin),
        404,
        "414402",
    )
    assert_error(
        await client.get(
            tenant.stock(new_store(), f"/receipts/{data['receiptId']}"), headers=tenant.admin
        ),
        404,
        "414402",
    )


async def test_negative_stock_takes_the_receipt_cost(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    store = new_store()
    r = await client.put(
        tenant.stock(store, "/N/update"),
        json={"quantityChange": -5, "updateType": "sale"},
        headers=tenant.admin,
    )
    assert_ok(r)
    body = assert_ok(await receive(client, tenant, store, delivery("PO-N", [("N", 8, 3)])), 201)
    assert body["data"]["lines"][0]["averageCost"] == 3
    assert body["data"]["lines"][0]["afterQuantity"] == 3


async def test_a_reference_is_received_once_even_concurrently(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    store = new_store()
    body = delivery("DUP-1", [("D", 5, 2), ("E", 1, 1)])
    results = await asyncio.gather(*(receive(client, tenant, store, body) for _ in range(5)))
    statuses = sorted(r.status_code for r in results)
    assert statuses == [201, 409, 409, 409, 409], [r.text for r in results]
    for r in results:
        if r.status_code == 409:
            assert_error(r, 409, "414401")
    assert await quantity(client, tenant, store, "D") == 5
    assert await quantity(client, tenant, store, "E") == 1
    assert len(await history(client, tenant, store, "D")) == 1
    # Later, with other lines: still refused, nothing applied.
    again = delivery("DUP-1", [("F", 9, 9)])
    assert_error(await receive(client, tenant, store, again), 409, "414401")
    assert await quantity(client, tenant, store, "F") is None
    # The same reference at another store is another delivery.
    assert_ok(await receive(client, tenant, new_store(), body), 201)


async def test_bad_receipts_are_refused_and_write_nothing(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    store = new_store()
    good = ("OK", 1, 1)
    for body, status in (
        (delivery("R", []), 422),
        (delivery("R", [good] * 1001), 422),
        (delivery("R", [good, ("Z", 0, 1)]), 422),
        (delivery("R", [good, ("Z", -1, 1)]), 422),
        (delivery("R", [good, ("Z", 1, -1)]), 422),
        (delivery("R", [good, ("Z", "0.00001", 1)]), 400),
        (delivery("R", [good, ("Z", 1, "0.00001")]), 400),
        (delivery("R", [good, ("Z", 1, "NaN")]), 422),
        (delivery("R", [good, ("receipts", 1, 1)]), 422),
        (delivery("", [good]), 422),
        (delivery("R", [good], supplier=""), 422),
        ({"supplier": "S", "lines": [{"itemCode": "Z", "quantity": 1, "unitCost": 1}]}, 422),
    ):
        assert_error(await receive(client, tenant, store, body), status)
    listing = assert_ok(await client.get(tenant.stock(store), headers=tenant.admin))
    assert listing["data"]["data"] == []
    receipts = assert_ok(await client.get(tenant.stock(store, "/receipts"), headers=tenant.admin))
    assert receipts["data"]["data"] == []


async def test_only_the_back_office_receives(client: httpx.AsyncClient, tenant: Tenant) -> None:
    store = new_store()
    body = delivery("PO-R", [("R", 2, 1)])
    for headers in (user_token(tenant, "user"), await tenant.till(store)):
        assert_error(await receive(client, tenant, store, body, headers=headers), 403, "200002")
    assert await quantity(client, tenant, store, "R") is None
    # The store's till may read receipts (any credential of the tenant reads stock).
    assert_ok(
        await receive(client, tenant, store, body, headers=user_token(tenant, "manager")), 201
    )
    till = await tenant.till(store)
    listing = assert_ok(await client.get(tenant.stock(store, "/receipts"), headers=till))
    assert len(listing["data"]["data"]) == 1
