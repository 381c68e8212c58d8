"""Transfers between stores: ship (sending store down), partial and complete receipts
(receiving store up at the shipped cost, the rest a discrepancy), cancel, bad input, roles."""

from __future__ import annotations

import asyncio

import httpx

from kugelpos.testkit.testing import assert_error, assert_ok

from .conftest import Tenant, history, know_lines, new_store, quantity, setup_tenant
from .test_stock_adjustments import user_token
from .test_stock_counts import receive


def transfers(tenant: Tenant, path: str = "") -> str:
    return f"{tenant.base}/stock/transfers{path}"


async def ship(client, tenant: Tenant, from_store: str, to_store: str, lines, headers=None):
    body_lines = [{"itemCode": i, "quantity": q} for i, q in lines]
    await know_lines(tenant, body_lines)
    return await client.post(
        transfers(tenant),
        json={"fromStore": from_store, "toStore": to_store, "lines": body_lines},
        headers=headers or tenant.admin,
    )


async def take_in(client, tenant: Tenant, transfer_id: str, lines, complete=False, headers=None):
    return await client.post(
        transfers(tenant, f"/{transfer_id}/receive"),
        json={"lines": [{"itemCode": i, "quantity": q} for i, q in lines], "complete": complete},
        headers=headers or tenant.admin,
    )


def lines_of(transfer: dict) -> dict[str, tuple]:
    return {
        x["itemCode"]: (
            x["shippedQuantity"],
            x["receivedQuantity"],
            x["inTransitQuantity"],
            x["discrepancyQuantity"],
        )
        for x in transfer["lines"]
    }


async def test_the_worked_example_ship_receive_partly_then_complete(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    """docs/stock.md, Transfers."""
    s1, s2 = new_store(), new_store()
    await receive(client, tenant, s1, [("A", 10, 2), ("B", 6, 1)])
    await receive(client, tenant, s2, [("A", 1, 5)])
    shipped = assert_ok(await ship(client, tenant, s1, s2, [("A", 4), ("B", 2)]), 201)["data"]
    transfer_id = shipped["transferId"]
    assert (shipped["status"], shipped["fromStore"], shipped["toStore"]) == ("shipped", s1, s2)
    assert lines_of(shipped) == {"A": (4, 0, 4, 0), "B": (2, 0, 2, 0)}
    assert [x["unitCost"] for x in shipped["lines"]] == [2, 1]
    assert (await quantity(client, tenant, s1, "A"), await quantity(client, tenant, s1, "B")) == (
        6,
        4,
    )
    out = [x for x in await history(client, tenant, s1, "A") if x["updateType"] == "transfer_out"]
    assert [(x["quantityChange"], x["referenceId"]) for x in out] == [(-4, transfer_id)]

    part = assert_ok(await take_in(client, tenant, transfer_id, [("A", 3)]))["data"]
    assert part["status"] == "partly_received"
    assert lines_of(part) == {"A": (4, 3, 1, 0), "B": (2, 0, 2, 0)}
    assert await quantity(client, tenant, s2, "A") == 4
    # S2 had 1 at 5.00; 3 came in at S1's 2.00: (5 + 6) / 4 = 2.75
    valuation = assert_ok(await client.get(tenant.stock(s2, "/valuation"), headers=tenant.admin))
    assert {i["itemCode"]: i["averageCost"] for i in valuation["data"]["items"]} == {"A": 2.75}
    query = {"store": s2, "state": "partly_received"}
    listed = assert_ok(await client.get(transfers(tenant), params=query, headers=tenant.admin))
    listed = listed["data"]["data"]
    assert [x["transferId"] for x in listed] == [transfer_id]

    done = assert_ok(await take_in(client, tenant, transfer_id, [("B", 2)], complete=True))["data"]
    assert done["status"] == "received" and done["closedAt"] is not None
    assert lines_of(done) == {"A": (4, 3, 0, 1), "B": (2, 2, 0, 0)}  # 1 A never arrived
    assert [r["lines"] for r in done["receipts"]] == [
        [{"itemCode": "A", "quantity": 3}],
        [{"itemCode": "B", "quantity": 2}],
    ]
    assert await quantity(client, tenant, s2, "B") == 2
    ins = [x for x in await history(client, tenant, s2, "A") if x["updateType"] == "transfer_in"]
    assert [(x["quantityChange"], x["unitCost"]) for x in ins] == [(3, 2)]
    got = assert_ok(await client.get(transfers(tenant, f"/{transfer_id}"), headers=tenant.admin))
    assert got["data"] == done
    for r in (
        await take_in(client, tenant, transfer_id, [("A", 1)]),
        await client.post(transfers(tenant, f"/{transfer_id}/cancel"), headers=tenant.admin),
    ):
        assert_error(r, 409, "414603")
    assert await quantity(client, tenant, s2, "A") == 4
    by_state = assert_ok(
        await client.get(
            transfers(tenant), params={"store": s1, "state": "shipped"}, headers=tenant.admin
        )
    )["data"]["data"]
    assert by_state == []


async def test_a_cancelled_transfer_puts_the_goods_back(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    s1, s2 = new_store(), new_store()
    await receive(client, tenant, s1, [("C", 5, 3)])
    transfer_id = assert_ok(await ship(client, tenant, s1, s2, [("C", 5)]), 201)["data"][
        "transferId"
    ]
    assert await quantity(client, tenant, s1, "C") == 0
    cancelled = assert_ok(
        await client.post(transfers(tenant, f"/{transfer_id}/cancel"), headers=tenant.admin)
    )["data"]
    assert cancelled["status"] == "cancelled"
    assert await quantity(client, tenant, s1, "C") == 5
    assert await quantity(client, tenant, s2, "C") is None
    kinds = [x["updateType"] for x in await history(client, tenant, s1, "C")]
    assert sorted(kinds) == ["receipt", "transfer_in", "transfer_out"]
    assert_error(await take_in(client, tenant, transfer_id, [("C", 1)]), 409, "414603")
    # Once anything was received, it cannot be cancelled.
    other = assert_ok(await ship(client, tenant, s1, s2, [("C", 2)]), 201)["data"]["transferId"]
    assert_ok(await take_in(client, tenant, other, [("C", 1)]))
    r = await client.post(transfers(tenant, f"/{other}/cancel"), headers=tenant.admin)
    assert_error(r, 409, "414603")


async def test_concurrent_receipts_of_the_last_units_apply_once(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    s1, s2 = new_store(), new_store()
    transfer_id = assert_ok(await ship(client, tenant, s1, s2, [("D", 3)]), 201)["data"][
        "transferId"
    ]
    answers = await asyncio.gather(
        *(take_in(client, tenant, transfer_id, [("D", 2)]) for _ in range(4))
    )
    assert sorted(r.status_code for r in answers) == [200, 400, 400, 400], [r.text for r in answers]
    for r in answers:
        if r.status_code == 400:
            assert_error(r, 400, "414604")  # 2 received, 1 in transit
    assert await quantity(client, tenant, s2, "D") == 2
    assert await quantity(client, tenant, s1, "D") == -3  # never refused, flagged


async def test_bad_transfers_are_refused_and_write_nothing(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    s1, s2 = new_store(), new_store()
    assert_error(await ship(client, tenant, s1, s1, [("E", 1)]), 400, "414602")
    for lines in ([], [("E", 0)], [("E", -1)], [("E", 1), ("E", 2)], [("counts", 1)]):
        assert_error(await ship(client, tenant, s1, s2, lines), 422)
    assert_error(await ship(client, tenant, s1, s2, [("E", "0.00001")]), 400)
    r = await client.post(transfers(tenant), json={"fromStore": s1}, headers=tenant.admin)
    assert_error(r, 422)
    assert await quantity(client, tenant, s1, "E") is None
    assert_ok(await client.get(transfers(tenant), params={"store": s1}, headers=tenant.admin))
    transfer_id = assert_ok(await ship(client, tenant, s1, s2, [("E", 2)]), 201)["data"][
        "transferId"
    ]
    for lines, status, code in (
        ([("E", 3)], 400, "414604"),  # more than in transit
        ([("F", 1)], 400, "414604"),  # not shipped
        ([("E", 1), ("E", 1)], 422, None),
        ([("E", -1)], 422, None),
        ([], 422, None),  # nothing, and not complete
    ):
        assert_error(await take_in(client, tenant, transfer_id, lines), status, code)
    assert await quantity(client, tenant, s2, "E") is None
    got = assert_ok(await client.get(transfers(tenant, f"/{transfer_id}"), headers=tenant.admin))
    assert got["data"]["status"] == "shipped" and got["data"]["receipts"] == []
    for r in (
        await client.get(transfers(tenant, "/nope"), headers=tenant.admin),
        await take_in(client, tenant, "nope", [("E", 1)]),
        await client.post(transfers(tenant, "/nope/cancel"), headers=tenant.admin),
    ):
        assert_error(r, 404, "414601")


async def test_only_the_back_office_moves_goods(
    client: httpx.AsyncClient, tenant: Tenant, codec
) -> None:
    s1, s2 = new_store(), new_store()
    other = await setup_tenant(client, codec)
    refused = (user_token(tenant, "user"), await tenant.till(s1), other.admin)
    for headers in refused:
        assert_error(await ship(client, tenant, s1, s2, [("G", 1)], headers), 403, "200002")
    assert await quantity(client, tenant, s1, "G") is None
    manager = user_token(tenant, "manager")
    transfer_id = assert_ok(await ship(client, tenant, s1, s2, [("G", 1)], manager), 201)["data"][
        "transferId"
    ]
    for headers in refused:
        r = await take_in(client, tenant, transfer_id, [("G", 1)], headers=headers)
        assert_error(r, 403, "200002")
        r = await client.post(transfers(tenant, f"/{transfer_id}/cancel"), headers=headers)
        assert_error(r, 403, "200002")
    assert await quantity(client, tenant, s2, "G") is None
    # The back office and the two stores' tills read it; another tenant does not.
    assert_ok(await client.get(transfers(tenant, f"/{transfer_id}"), headers=await tenant.till(s2)))
    r = await client.get(transfers(tenant, f"/{transfer_id}"), headers=other.admin)
    assert_error(r, 403, "200002")
    assert_ok(await take_in(client, tenant, transfer_id, [("G", 1)], headers=manager))


async def test_a_till_reads_only_its_own_stores_transfers(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    """The back office reads every transfer of the tenant; a till only those from or to its
    store: its list is of its store (another store named: 403), another store's transfer is
    404 as if it were not there."""
    s1, s2, s3 = new_store(), new_store(), new_store()
    one = assert_ok(await ship(client, tenant, s1, s2, [("H", 1)]), 201)["data"]["transferId"]
    two = assert_ok(await ship(client, tenant, s2, s3, [("H", 1)]), 201)["data"]["transferId"]

    async def listed(headers, **params) -> list[str]:
        r = await client.get(transfers(tenant), params=params, headers=headers)
        return sorted(t["transferId"] for t in assert_ok(r)["data"]["data"])

    till1, till2, till3 = [await tenant.till(s) for s in (s1, s2, s3)]
    manager = user_token(tenant, "manager")
    for back_office in (tenant.admin, manager, user_token(tenant, "user")):
        assert set(await listed(back_office)) >= {one, two}
        assert await listed(back_office, store=s3) == [two]
    assert await listed(till1) == [one]
    assert await listed(till2) == sorted([one, two])
    assert await listed(till3, state="shipped") == [two]
    assert await listed(till1, store=s1) == [one]
    r = await client.get(transfers(tenant), params={"store": s3}, headers=till1)
    assert_error(r, 403, "200002")

    assert_ok(await client.get(transfers(tenant, f"/{one}"), headers=till1))
    assert_ok(await client.get(transfers(tenant, f"/{two}"), headers=till2))
    assert_error(await client.get(transfers(tenant, f"/{two}"), headers=till1), 404, "414601")
    assert_error(await client.get(transfers(tenant, f"/{one}"), headers=till3), 404, "414601")
    assert_ok(await client.get(transfers(tenant, f"/{two}"), headers=manager))
