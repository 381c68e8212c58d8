"""Physical counts: zones summed and replaced, variances against the quantity when counted,
sales during the count, the post in one transaction, post twice, cancel, bad input, roles."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from kugelpos.devstack.stack import Stack
from kugelpos.testkit.testing import assert_error, assert_ok

from .conftest import Tenant, history, know_lines, new_store, quantity, setup_tenant, tranlog
from .test_stock_adjustments import user_token


async def sell(stack: Stack, client: httpx.AsyncClient, tenant: Tenant, store: str, lines) -> None:
    """A sale (101) or return (102) through the tranlog consumer route, as the cart's event."""
    log = tranlog(tenant.tenant_id, store, lines)
    r = await client.post(
        "/api/v1/tranlog",
        json={"specversion": "1.0", "id": log["event_id"], "data": log},
        headers={"dapr-api-token": stack.app_token},
    )
    assert r.status_code == 200 and r.json()["status"] == "SUCCESS", r.text


async def receive(client, tenant: Tenant, store: str, lines: list[tuple[str, Any, Any]]) -> None:
    await tenant.know(*(i for i, _, _ in lines))
    body = {
        "supplier": "S",
        "reference": f"R-{store}-{lines}",
        "lines": [{"itemCode": i, "quantity": q, "unitCost": c} for i, q, c in lines],
    }
    assert_ok(
        await client.post(tenant.stock(store, "/receipts"), json=body, headers=tenant.admin), 201
    )


async def open_count(client, tenant: Tenant, store: str, body=None, headers=None) -> dict:
    await know_lines(tenant, [{"itemCode": c} for c in (body or {}).get("itemCodes") or []])
    r = await client.post(
        tenant.stock(store, "/counts"),
        json=body if body is not None else {},
        headers=headers or tenant.admin,
    )
    return assert_ok(r, 201)["data"]


def entry(item: str, zone: str, counted) -> dict:
    return {"itemCode": item, "zone": zone, "countedQuantity": counted}


async def enter(client, tenant: Tenant, store: str, count_id: str, lines, headers=None):
    await know_lines(tenant, lines)
    return await client.put(
        tenant.stock(store, f"/counts/{count_id}/lines"),
        json=lines,
        headers=headers or tenant.admin,
    )


async def read(client, tenant: Tenant, store: str, count_id: str) -> dict:
    r = await client.get(tenant.stock(store, f"/counts/{count_id}"), headers=tenant.admin)
    return assert_ok(r)["data"]


def by_item(count: dict) -> dict[str, dict]:
    return {i["itemCode"]: i for i in count["items"]}


async def test_the_worked_example_a_sale_between_counting_and_posting(
    stack: Stack, client: httpx.AsyncClient, tenant: Tenant
) -> None:
    """docs/stock.md, Physical counts: 10 on hand at 2.50, counted 3 + 5 in two zones, 2 sold
    before the post: the variance is -2 (-5.00 at cost) and the post leaves 6."""
    store = new_store()
    await receive(client, tenant, store, [("A", 10, "2.5"), ("B", 4, 1)])
    count = await open_count(client, tenant, store)
    assert count["status"] == "open" and count["itemCodes"] is None and count["items"] == []
    count_id = count["countId"]
    till = await tenant.till(store)
    front = assert_ok(await enter(client, tenant, store, count_id, [entry("A", "front", 3)], till))
    assert front["data"] == {
        "countId": count_id,
        "tenantId": tenant.tenant_id,
        "storeCode": store,
        "status": "open",
        "revision": 1,
        "lines": [{"itemCode": "A", "zone": "front", "countedQuantity": 3, "quantityAtCount": 10}],
    }
    back = assert_ok(
        await enter(client, tenant, store, count_id, [entry("A", "back", 5), entry("B", "back", 4)])
    )["data"]
    # Its own lines only (A's front zone is the count's, not this entry's).
    assert back["revision"] == 2 and "items" not in back
    assert [(x["itemCode"], x["zone"], x["quantityAtCount"]) for x in back["lines"]] == [
        ("A", "back", 10),
        ("B", "back", 4),
    ]
    await sell(stack, client, tenant, store, [("A", 2)])  # after counting, before posting
    items = by_item(await read(client, tenant, store, count_id))
    a = items["A"]
    assert (a["expectedQuantity"], a["countedQuantity"], a["variance"]) == (10, 8, -2)
    assert (a["averageCost"], a["varianceValue"], a["currentQuantity"]) == (2.5, -5, 8)
    assert [(z["zone"], z["countedQuantity"]) for z in a["zones"]] == [("back", 5), ("front", 3)]
    assert (items["B"]["variance"], items["B"]["varianceValue"]) == (0, 0)

    posted = assert_ok(
        await client.post(tenant.stock(store, f"/counts/{count_id}/post"), headers=tenant.admin)
    )["data"]
    assert posted["status"] == "posted" and posted["closedAt"] is not None
    assert posted["totalVarianceValue"] == -5
    assert by_item(posted)["A"]["currentQuantity"] == 6  # counted 8, 2 sold since
    assert await quantity(client, tenant, store, "A") == 6
    assert await quantity(client, tenant, store, "B") == 4
    rows = await history(client, tenant, store, "A")
    counted = [x for x in rows if x["updateType"] == "count"]
    assert len(counted) == 1 and counted[0]["quantityChange"] == -2
    assert (counted[0]["beforeQuantity"], counted[0]["afterQuantity"]) == (8, 6)
    assert counted[0]["referenceId"] == count_id
    # No variance, no history row.
    assert [x["updateType"] for x in await history(client, tenant, store, "B")] == ["receipt"]
    # A later sale moves the row, not the posted figures.
    await sell(stack, client, tenant, store, [("A", 1)])
    after = by_item(await read(client, tenant, store, count_id))["A"]
    assert (after["expectedQuantity"], after["variance"], after["currentQuantity"]) == (10, -2, 5)


async def test_zones_sum_and_re_entering_a_zone_replaces_it(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    store = new_store()
    count_id = (await open_count(client, tenant, store))["countId"]
    lines = [entry("Z", "aisle-1", 2), entry("Z", "aisle-2", "1.5"), entry("Y", "aisle-1", 1)]
    assert_ok(await enter(client, tenant, store, count_id, lines))
    assert by_item(await read(client, tenant, store, count_id))["Z"]["countedQuantity"] == 3.5
    # aisle-1 again (on another device): replaced, not added
    manager = user_token(tenant, "manager")
    assert_ok(await enter(client, tenant, store, count_id, [entry("Z", "aisle-1", 7)], manager))
    z = by_item(await read(client, tenant, store, count_id))["Z"]
    assert (z["countedQuantity"], z["expectedQuantity"], z["variance"]) == (8.5, 0, 8.5)
    # Several devices at once, each its own zones.
    tills = [await tenant.till(store, n) for n in (1, 2, 3)]
    await asyncio.gather(
        *(
            enter(client, tenant, store, count_id, [entry("X", f"zone-{n}", n)], h)
            for n, h in enumerate(tills, start=1)
        )
    )
    x = by_item(await read(client, tenant, store, count_id))["X"]
    assert x["countedQuantity"] == 6 and len(x["zones"]) == 3
    assert_ok(await client.post(tenant.stock(store, f"/counts/{count_id}/post"), headers=manager))
    assert await quantity(client, tenant, store, "Z") == 8.5
    assert await quantity(client, tenant, store, "X") == 6
    assert await quantity(client, tenant, store, "Y") == 1


async def test_posting_twice_has_no_second_effect_and_a_posted_count_is_closed(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    store = new_store()
    count_id = (await open_count(client, tenant, store))["countId"]
    assert_ok(await enter(client, tenant, store, count_id, [entry("P", "z", 4)]))
    post = tenant.stock(store, f"/counts/{count_id}/post")
    first, second = await asyncio.gather(
        client.post(post, headers=tenant.admin), client.post(post, headers=tenant.admin)
    )
    assert sorted((first.status_code, second.status_code)) == [200, 409]
    loser = second if second.status_code == 409 else first
    assert_error(loser, 409, "414502")
    assert_error(await client.post(post, headers=tenant.admin), 409, "414502")
    assert await quantity(client, tenant, store, "P") == 4
    assert len(await history(client, tenant, store, "P")) == 1
    assert_error(await enter(client, tenant, store, count_id, [entry("P", "z", 9)]), 409, "414502")
    cancel = tenant.stock(store, f"/counts/{count_id}/cancel")
    assert_error(await client.post(cancel, headers=tenant.admin), 409, "414502")
    assert (await read(client, tenant, store, count_id))["status"] == "posted"
    # The store may count again now.
    assert (await open_count(client, tenant, store))["status"] == "open"


async def test_a_cancelled_count_changes_nothing(client: httpx.AsyncClient, tenant: Tenant) -> None:
    store = new_store()
    await receive(client, tenant, store, [("C", 5, 1)])
    count = await open_count(client, tenant, store, {"itemCodes": ["C", "D"]})
    count_id = count["countId"]
    assert count["itemCodes"] == ["C", "D"]
    # The items of the scope are listed, counted or not.
    assert [(i["itemCode"], i["countedQuantity"]) for i in count["items"]] == [
        ("C", None),
        ("D", None),
    ]
    assert_ok(await enter(client, tenant, store, count_id, [entry("C", "z", 1)]))
    # One open count per store.
    r = await client.post(tenant.stock(store, "/counts"), json={}, headers=tenant.admin)
    assert_error(r, 409, "414503")
    cancelled = assert_ok(
        await client.post(tenant.stock(store, f"/counts/{count_id}/cancel"), headers=tenant.admin)
    )["data"]
    assert cancelled["status"] == "cancelled"
    assert_error(
        await client.post(tenant.stock(store, f"/counts/{count_id}/post"), headers=tenant.admin),
        409,
        "414502",
    )
    assert await quantity(client, tenant, store, "C") == 5
    assert [x["updateType"] for x in await history(client, tenant, store, "C")] == ["receipt"]
    assert (await open_count(client, tenant, store))["status"] == "open"


async def test_bad_input_is_refused_and_writes_nothing(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    store = new_store()
    for body, status, code in (
        ({"categoryCodes": ["001"]}, 400, "414505"),
        ({"itemCodes": []}, 422, None),
        ({"itemCodes": ["counts"]}, 422, None),
        ({"itemCodes": ["A"], "categoryCodes": ["001"]}, 422, None),
    ):
        r = await client.post(tenant.stock(store, "/counts"), json=body, headers=tenant.admin)
        assert_error(r, status, code)
    count_id = (await open_count(client, tenant, store, {"itemCodes": ["A"]}))["countId"]
    good = entry("A", "z", 1)
    for lines, status, code in (
        ([], 422, None),
        ({"itemCode": "A"}, 422, None),
        ([good, entry("A", "z", -1)], 422, None),
        ([good, entry("A", "z", "0.00001")], 400, None),
        ([good, entry("A", "", 1)], 422, None),
        ([good, entry("A", "z", "NaN")], 422, None),
        ([good, entry("B", "z", 1)], 400, "414504"),  # not in the count's items
        ([good] * 1001, 422, None),
    ):
        assert_error(await enter(client, tenant, store, count_id, lines), status, code)
    assert (await read(client, tenant, store, count_id))["items"][0]["countedQuantity"] is None
    missing = tenant.stock(store, "/counts/nope")
    assert_error(await client.get(missing, headers=tenant.admin), 404, "414501")
    assert_error(await client.post(f"{missing}/post", headers=tenant.admin), 404, "414501")
    # Another store's path does not reach this count.
    other = tenant.stock(new_store(), f"/counts/{count_id}")
    assert_error(await client.get(other, headers=tenant.admin), 404, "414501")
    listing = assert_ok(await client.get(tenant.stock(store), headers=tenant.admin))
    assert listing["data"]["data"] == []


async def test_roles(client: httpx.AsyncClient, tenant: Tenant, codec) -> None:
    store = new_store()
    refused_to_open = (
        user_token(tenant, "user"),
        await tenant.till(store),  # a till enters lines, it does not open or post
    )
    for headers in refused_to_open:
        r = await client.post(tenant.stock(store, "/counts"), json={}, headers=headers)
        assert_error(r, 403, "200002")
    other = await setup_tenant(client, codec)
    r = await client.post(tenant.stock(store, "/counts"), json={}, headers=other.admin)
    assert_error(r, 403, "200002")
    count_id = (await open_count(client, tenant, store, headers=user_token(tenant, "manager")))[
        "countId"
    ]
    lines = [entry("T", "z", 1)]
    for headers in (await tenant.till(new_store()), user_token(tenant, "user"), other.admin):
        assert_error(await enter(client, tenant, store, count_id, lines, headers), 403, "200002")
    assert_ok(await enter(client, tenant, store, count_id, lines, await tenant.till(store)))
    post = tenant.stock(store, f"/counts/{count_id}/post")
    for headers in (await tenant.till(store), user_token(tenant, "user"), other.admin):
        assert_error(await client.post(post, headers=headers), 403, "200002")
    assert await quantity(client, tenant, store, "T") is None
    assert_ok(await client.post(post, headers=user_token(tenant, "manager")))
    assert await quantity(client, tenant, store, "T") == 1


async def test_a_count_posts_while_ten_tills_sell(
    stack: Stack, client: httpx.AsyncClient, tenant: Tenant
) -> None:
    """Ten tills sell (the tranlog consumer route) while the count of the same items posts:
    every item ends at counted - sold, with one `count` row, and its history sums to it."""
    store = new_store()
    codes = [f"I{n}" for n in range(10)]
    body = {"lines": [{"itemCode": c, "quantityChange": 100, "reason": "opening"} for c in codes]}
    await know_lines(tenant, body["lines"])
    r = await client.post(tenant.stock(store, "/adjustments"), json=body, headers=tenant.admin)
    assert_ok(r, 201)
    count_id = (await open_count(client, tenant, store))["countId"]
    counted = {c: 100 + n - 5 for n, c in enumerate(codes)}  # variances -5 .. +4
    lines = [entry(c, "shelf", q) for c, q in counted.items()]
    assert_ok(await enter(client, tenant, store, count_id, lines))

    sold = dict.fromkeys(codes, 0)
    plan = [[(codes[(t * 3 + k) % 10], 1 + k % 2) for k in range(8)] for t in range(10)]
    for till in plan:
        for code, q in till:
            sold[code] += q

    selling = asyncio.Event()

    async def till_sells(terminal_no: int, sales: list[tuple[str, int]]) -> None:
        for k, (code, q) in enumerate(sales):
            if k == 2:
                selling.set()
            log = tranlog(tenant.tenant_id, store, [(code, q)], terminal_no=terminal_no)
            r = await client.post(
                "/api/v1/tranlog",
                json={"specversion": "1.0", "id": log["event_id"], "data": log},
                headers={"dapr-api-token": stack.app_token},
            )
            assert r.status_code == 200 and r.json()["status"] == "SUCCESS", r.text

    async def post_midway() -> httpx.Response:
        await selling.wait()  # the tills are selling
        return await client.post(
            tenant.stock(store, f"/counts/{count_id}/post"), headers=tenant.admin
        )

    *_, posted = await asyncio.gather(
        *(till_sells(n + 1, sales) for n, sales in enumerate(plan)), post_midway()
    )
    data = assert_ok(posted)["data"]
    assert {i["itemCode"]: i["variance"] for i in data["items"]} == {
        c: q - 100 for c, q in counted.items()
    }
    sold_before = 0
    for code in codes:
        assert await quantity(client, tenant, store, code) == counted[code] - sold[code], code
        rows = await history(client, tenant, store, code)
        assert sum(x["quantityChange"] for x in rows) == counted[code] - sold[code]
        counts = [x for x in rows if x["updateType"] == "count"]
        variance = counted[code] - 100
        # one `count` row per item with a variance, none without
        assert [x["quantityChange"] for x in counts] == ([variance] if variance else []), code
        if counts:
            sold_before += 100 - counts[0]["beforeQuantity"]
        sales = [x for x in rows if x["updateType"] == "sale"]
        assert sum(x["quantityChange"] for x in sales) == -sold[code]
        for x in rows:
            assert x["afterQuantity"] == x["beforeQuantity"] + x["quantityChange"]
    # The post came between sales: some before it, some after.
    assert 0 < sold_before < sum(sold.values()) - sold["I5"], sold_before


async def test_the_store_lists_its_counts_newest_first(
    client: httpx.AsyncClient, tenant: Tenant, codec
) -> None:
    store = new_store()
    await receive(client, tenant, store, [("L", 10, "1.25")])
    cancelled = (await open_count(client, tenant, store, {"itemCodes": ["L"]}))["countId"]
    cancel = tenant.stock(store, f"/counts/{cancelled}/cancel")
    assert_ok(await client.post(cancel, headers=tenant.admin))
    posted = (await open_count(client, tenant, store, {"itemCodes": ["L"]}))["countId"]
    assert_ok(await enter(client, tenant, store, posted, [entry("L", "z", 7)]))
    post = tenant.stock(store, f"/counts/{posted}/post")
    detail = assert_ok(await client.post(post, headers=tenant.admin))["data"]
    still_open = (await open_count(client, tenant, store))["countId"]
    # Another store's counts are not listed.
    await open_count(client, tenant, new_store())

    async def listing(params=None, headers=None) -> dict:
        r = await client.get(
            tenant.stock(store, "/counts"), params=params, headers=headers or tenant.admin
        )
        body = assert_ok(r)
        assert body["operation"] == "list_counts"
        return body["data"]

    every = await listing()
    assert [c["countId"] for c in every["data"]] == [still_open, posted, cancelled]
    assert [c["status"] for c in every["data"]] == ["open", "posted", "cancelled"]
    assert every["metadata"]["total"] == 3
    by_id = {c["countId"]: c for c in every["data"]}
    # A posted count says what its post applied: L 10 -> 7 at 1.25 = -3.75.
    assert by_id[posted]["postedItems"] == 1
    assert by_id[posted]["totalVarianceValue"] == detail["totalVarianceValue"] == -3.75
    assert by_id[posted]["closedAt"] is not None and by_id[posted]["itemCodes"] == ["L"]
    assert by_id[still_open]["postedItems"] is None
    assert by_id[still_open]["totalVarianceValue"] is None
    assert by_id[still_open]["itemCodes"] is None and by_id[still_open]["closedAt"] is None
    assert "items" not in by_id[posted]
    # Filtered by status, and paged.
    only = await listing({"status": "posted"})
    assert [c["countId"] for c in only["data"]] == [posted]
    assert only["metadata"]["total"] == 1
    second = await listing({"limit": 1, "page": 2})
    assert [c["countId"] for c in second["data"]] == [posted]
    assert second["metadata"]["total"] == 3
    # Any credential of the tenant reads (a till of the store); a bad status, another
    # tenant, no credential are refused.
    till = await tenant.till(store)
    assert len((await listing(headers=till))["data"]) == 3
    r = await client.get(
        tenant.stock(store, "/counts"), params={"status": "done"}, headers=tenant.admin
    )
    assert_error(r, 422)
    other = await setup_tenant(client, codec)
    assert_error(await client.get(tenant.stock(store, "/counts"), headers=other.admin), 403)
    assert_error(await client.get(tenant.stock(store, "/counts")), 401)
