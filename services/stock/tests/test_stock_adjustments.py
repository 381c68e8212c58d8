"""Batch adjustments: every line and its history row in one transaction, or nothing."""

from __future__ import annotations

import httpx

from kugelpos.testkit.testing import assert_error, assert_ok

from .conftest import (
    HOUR,
    Tenant,
    bearer,
    history,
    know_lines,
    new_store,
    quantity,
    setup_tenant,
)


def line(item: str, change, reason: str = "damaged in storage") -> dict:
    return {"itemCode": item, "quantityChange": change, "reason": reason}


async def adjust(client: httpx.AsyncClient, tenant: Tenant, store: str, lines, headers=None):
    await know_lines(tenant, lines)
    return await client.post(
        tenant.stock(store, "/adjustments"),
        json={"lines": lines},
        headers=headers if headers is not None else tenant.admin,
    )


def user_token(tenant: Tenant, role: str) -> dict[str, str]:
    return bearer(
        tenant.codec.issue_user_token(
            username=role,
            tenant_id=tenant.tenant_id,
            is_superuser=False,
            roles=[role],
            lifetime=HOUR,
        )
    )


async def test_a_batch_applies_every_line_with_its_history(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    store = new_store()
    r = await client.put(
        tenant.stock(store, "/A/update"),
        json={"quantityChange": 10, "updateType": "purchase"},
        headers=tenant.admin,
    )
    assert_ok(r)
    lines = [
        line("A", -2.5, "broken"),
        line("B", 4, "found in the back room"),
        line("A", "0.0001", "rounding of the scale"),
    ]
    body = assert_ok(await adjust(client, tenant, store, lines), 201)
    assert body["operation"] == "create_adjustment"
    data = body["data"]
    adjustment_id = data["adjustmentId"]
    assert data["storeCode"] == store and len(data["lines"]) == 3
    a1, b, a2 = data["lines"]
    assert (a1["beforeQuantity"], a1["afterQuantity"], a1["note"]) == (10, 7.5, "broken")
    assert (a2["beforeQuantity"], a2["afterQuantity"]) == (7.5, 7.5001)
    assert (b["beforeQuantity"], b["afterQuantity"], b["flags"]) == (0, 4, ["new_item"])
    assert {x["updateType"] for x in data["lines"]} == {"adjustment"}
    assert {x["referenceId"] for x in data["lines"]} == {adjustment_id}
    assert await quantity(client, tenant, store, "A") == 7.5001
    assert await quantity(client, tenant, store, "B") == 4
    rows = await history(client, tenant, store, "A")
    assert sorted((x["updateType"], x["quantityChange"]) for x in rows) == [
        ("adjustment", -2.5),
        ("adjustment", 0.0001),
        ("purchase", 10),
    ]
    # Every item's quantity is the sum of its history.
    for item in ("A", "B"):
        changes = [x["quantityChange"] for x in await history(client, tenant, store, item)]
        assert round(sum(changes), 4) == await quantity(client, tenant, store, item)


async def test_a_thousand_lines_in_one_batch(client: httpx.AsyncClient, tenant: Tenant) -> None:
    store = new_store()
    lines = [line(f"I{i:04d}", i % 7 + 1) for i in range(1000)]
    data = assert_ok(await adjust(client, tenant, store, lines), 201)["data"]
    assert len(data["lines"]) == 1000
    listing = assert_ok(
        await client.get(tenant.stock(store), params={"limit": 1000}, headers=tenant.admin)
    )["data"]
    assert listing["metadata"]["total"] == 1000
    assert sum(x["currentQuantity"] for x in listing["data"]) == sum(i % 7 + 1 for i in range(1000))


async def test_bad_batches_are_refused_and_write_nothing(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    store = new_store()
    good = line("OK", 1)
    # 1,001 lines: refused by its shape before any item is looked up, so its items need not
    # be made known to master-data first (a thousand item creations, ~11 s).
    too_long = [good] + [line(f"X{i}", 1) for i in range(1000)]
    r = await client.post(
        tenant.stock(store, "/adjustments"), json={"lines": too_long}, headers=tenant.admin
    )
    assert_error(r, 422)
    for lines, status in (
        ([], 422),  # empty
        ([good, line("Z", 0)], 422),  # a line that changes nothing
        ([good, line("Z", "0.00001")], 400),  # finer than the stock's 4 decimals
        ([good, line("Z", "NaN")], 422),
        ([good, line("Z", True)], 422),
        ([good, line("Z", 1, "")], 422),  # no reason
        ([good, {"itemCode": "Z", "quantityChange": 1}], 422),
        ([good, line("", 1)], 422),
        ([good, line("x" * 65, 1)], 422),
        ([good, line("valuation", 1)], 422),  # a path segment: could never be read back
    ):
        assert_error(await adjust(client, tenant, store, lines), status)
    r = await client.post(tenant.stock(store, "/adjustments"), json={}, headers=tenant.admin)
    assert_error(r, 422)
    listing = assert_ok(await client.get(tenant.stock(store), headers=tenant.admin))
    assert listing["data"]["data"] == []


async def test_only_the_back_office_adjusts_in_batches(
    client: httpx.AsyncClient, tenant: Tenant, codec
) -> None:
    store = new_store()
    lines = [line("R", 1)]
    assert_error(await adjust(client, tenant, store, lines, headers={}), 401, "200001")
    other = await setup_tenant(client, codec)
    assert_error(await adjust(client, tenant, store, lines, headers=other.admin), 403, "200002")
    refused = (
        user_token(tenant, "user"),
        await tenant.till(store),  # a till of the store adjusts one item, not batches
        await tenant.till(new_store()),
    )
    for headers in refused:
        assert_error(await adjust(client, tenant, store, lines, headers=headers), 403, "200002")
    assert await quantity(client, tenant, store, "R") is None
    manager = user_token(tenant, "manager")
    assert_ok(await adjust(client, tenant, store, lines, headers=manager), 201)
    assert await quantity(client, tenant, store, "R") == 1
