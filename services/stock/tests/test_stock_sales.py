"""Sales into stock (§B4) through the commons consumer: exactly once per event."""

from __future__ import annotations

import asyncio

import httpx

from kugelpos.devstack.stack import Stack

from .conftest import Tenant, eventually, history, new_store, publish, quantity, tranlog


async def test_mapping_and_skips(stack: Stack, client: httpx.AsyncClient, tenant: Tenant) -> None:
    store = new_store()
    t = tenant.tenant_id
    events = [
        tranlog(t, store, [("A", 3), ("B", 1), ("A", 2)], transaction_type=101),  # A -5, B -1
        tranlog(t, store, [("A", 1)], transaction_type=102),  # A +1
        tranlog(t, store, [("B", 4)], transaction_type=201),  # B +4
        tranlog(t, store, [("B", 2)], transaction_type=202),  # B -2
        tranlog(t, store, [("A", 100)], transaction_type=301),  # ignored
        tranlog(t, store, [("A", 100)], cancelled=True),  # cancelled sale
        tranlog(t, store, [("A", 100), ("B", 1)], cancelled_lines=(0,)),  # B -1 only
        tranlog(t, store, [("A", 0), ("B", -3)]),  # non-positive lines skipped
    ]
    for event in events:
        await publish(stack, event)
    b = await eventually(lambda: quantity(client, tenant, store, "B"), lambda q: q == 0)
    assert b == 0
    a = await eventually(lambda: quantity(client, tenant, store, "A"), lambda q: q == -4)
    assert a == -4
    rows = await history(client, tenant, store, "A")
    assert sorted((r["updateType"], r["quantityChange"]) for r in rows) == [
        ("return", 1),
        ("sale", -3),
        ("sale", -2),
    ]
    first = events[0]
    sale_rows = [r for r in rows if r["updateType"] == "sale"]
    assert {r["referenceId"] for r in sale_rows} == {str(first["transaction_no"])}
    assert {r["transactionKey"] for r in sale_rows} == {f"1-{first['transaction_no']}"}


async def test_a_sale_chains_before_and_after_through_its_lines(
    stack: Stack, client: httpx.AsyncClient, tenant: Tenant
) -> None:
    # One sale's lines go to the store in one write; each history row still reads as if the
    # lines were applied one by one: A had 2 (a purchase), C had no row.
    store = new_store()
    body = {"quantityChange": 2, "updateType": "purchase"}
    r = await client.put(tenant.stock(store, "/A/update"), json=body, headers=tenant.admin)
    assert r.status_code == 200, r.text
    await publish(stack, tranlog(tenant.tenant_id, store, [("A", 1), ("C", 2), ("A", 3)]))
    a = await eventually(lambda: quantity(client, tenant, store, "A"), lambda q: q == -2)
    assert a == -2
    assert await quantity(client, tenant, store, "C") == -2
    sales = sorted(
        (r for r in await history(client, tenant, store, "A") if r["updateType"] == "sale"),
        key=lambda r: r["beforeQuantity"],
        reverse=True,
    )
    assert [(r["beforeQuantity"], r["quantityChange"], r["afterQuantity"]) for r in sales] == [
        (2, -1, 1),
        (1, -3, -2),
    ]
    assert [r["flags"] for r in sales] == [[], ["negative_stock"]]
    (c,) = await history(client, tenant, store, "C")
    assert (c["beforeQuantity"], c["afterQuantity"]) == (0, -2)
    assert set(c["flags"]) == {"new_item", "negative_stock"}


async def test_same_sale_five_times_concurrently_applies_once(
    stack: Stack, client: httpx.AsyncClient, tenant: Tenant
) -> None:
    store = new_store()
    event = tranlog(tenant.tenant_id, store, [("X", 2), ("Y", 1), ("X", 1)])
    # Five deliveries through the sidecar and five straight at the route, all at once.
    headers = {"dapr-api-token": stack.app_token}
    direct = [
        client.post(
            "/api/v1/tranlog",
            json={
                "specversion": "1.0",
                "id": str(i),
                "data": event,
                "datacontenttype": "application/json",
            },
            headers=headers,
        )
        for i in range(5)
    ]
    results = await asyncio.gather(*(publish(stack, event) for _ in range(5)), *direct)
    for r in results[5:]:
        assert r.status_code == 200 and r.json()["status"] == "SUCCESS", r.text
    # The same log under another event id (a republish) is the same sale too.
    await publish(stack, {**event, "event_id": "other-" + event["event_id"]})
    await asyncio.sleep(2)  # let the sidecar's deliveries land
    assert await quantity(client, tenant, store, "X") == -3
    assert await quantity(client, tenant, store, "Y") == -1
    assert len(await history(client, tenant, store, "X")) == 2
    assert len(await history(client, tenant, store, "Y")) == 1


async def test_unauthenticated_and_malformed_events_write_nothing(
    stack: Stack, client: httpx.AsyncClient, tenant: Tenant
) -> None:
    store = new_store()
    event = tranlog(tenant.tenant_id, store, [("Z", 1)])
    envelope = {
        "specversion": "1.0",
        "id": "1",
        "data": event,
        "datacontenttype": "application/json",
    }
    r = await client.post("/api/v1/tranlog", json=envelope)
    assert r.status_code == 401 and r.json()["code"] == "200001"
    r = await client.post("/api/v1/tranlog", json=envelope, headers={"dapr-api-token": "wrong"})
    assert r.status_code == 401
    token = {"dapr-api-token": stack.app_token}
    bad_qty = tranlog(tenant.tenant_id, store, [("Z", "lots")])
    for data in (
        bad_qty,
        {**event, "tenant_id": "../x"},
        {"test": "health-check"},
        {**event, "line_items": [{"item_code": "Z", "quantity": float("inf")}]},
    ):
        body = {**envelope, "data": data}
        r = await client.post(
            "/api/v1/tranlog",
            content=__import__("json").dumps(body),
            headers=token | {"Content-Type": "application/json"},
        )
        assert r.status_code == 200 and r.json()["status"] == "DROP", r.text
    assert await quantity(client, tenant, store, "Z") is None


async def test_a_return_that_does_not_restock_moves_nothing_and_says_why(
    stack: Stack, client: httpx.AsyncClient, tenant: Tenant
) -> None:
    """Issue 25: a return's `additional_info.restock` false (its reason, e.g. DAMAGED) takes
    nothing back, and its history row says why; true or absent (v1) takes the units back;
    the void of a return that did not restock takes nothing away; once per event."""
    store, t = new_store(), tenant.tenant_id
    damaged = {"return_reason_code": "DAMAGED", "restock": False, "approved_by": "M01"}
    kept = tranlog(t, store, [("A", 1)], transaction_type=102) | {"additional_info": damaged}
    events = [
        tranlog(t, store, [("A", 3)]),  # A -3
        kept,  # A 0, "not restocked: DAMAGED"
        kept,  # the same event again: nothing
        tranlog(t, store, [("A", 1)], transaction_type=102)
        | {"additional_info": {"return_reason_code": "CHANGED", "restock": True}},  # A +1
        tranlog(t, store, [("A", 1)], transaction_type=202) | {"additional_info": damaged},
    ]
    for event in events:
        await publish(stack, event)
    rows = await eventually(
        lambda: history(client, tenant, store, "A"),
        lambda rows: sum(r["updateType"] == "void_return" for r in rows) == 1,
    )
    assert await quantity(client, tenant, store, "A") == -2
    assert sorted((r["updateType"], r["quantityChange"], r.get("note")) for r in rows) == [
        ("return", 0, "not restocked: DAMAGED"),
        ("return", 1, None),
        ("sale", -3, None),
        ("void_return", 0, "not restocked: DAMAGED"),
    ]
    kept_row = next(r for r in rows if r["referenceId"] == str(kept["transaction_no"]))
    assert kept_row["beforeQuantity"] == kept_row["afterQuantity"] == -3
