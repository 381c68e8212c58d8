"""Movements by kind per day: the history summed per local day and kind, exactly."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import httpx
from pymongo import AsyncMongoClient

from kugelpos.devstack.stack import Stack
from kugelpos.testkit.testing import assert_error, assert_ok

from .conftest import Tenant, new_store, setup_tenant, tranlog
from .test_stock_adjustments import adjust, line
from .test_stock_counts import enter, entry, open_count, receive
from .test_stock_transfers import ship


async def movements(client, tenant: Tenant, store: str, start: str, end: str, headers=None):
    return await client.get(
        tenant.stock(store, "/movements"),
        params={"from": start, "to": end},
        headers=headers if headers is not None else tenant.admin,
    )


async def post_log(stack: Stack, client, tenant: Tenant, store: str, lines, kind: int = 101):
    """A sale (101) or return (102) through the tranlog consumer route, as the cart's event."""
    log = tranlog(tenant.tenant_id, store, lines, transaction_type=kind)
    r = await client.post(
        "/api/v1/tranlog",
        json={"specversion": "1.0", "id": log["event_id"], "data": log},
        headers={"dapr-api-token": stack.app_token},
    )
    assert r.status_code == 200 and r.json()["status"] == "SUCCESS", r.text


async def redate(stack: Stack, tenant: Tenant, store: str, since: datetime | None, at: datetime):
    """The clock cannot be moved: rows written now are dated `at` (those after `since`)."""
    client: AsyncMongoClient = AsyncMongoClient(stack.mongo_uri_for("stock"), tz_aware=True)
    try:
        rows = client[stack.db_name("stock", tenant.tenant_id)].stock_updates
        query: dict = {"store_code": store}
        if since is not None:
            query["timestamp"] = {"$gt": since}
        result = await rows.update_many(query, {"$set": {"timestamp": at}})
        assert result.modified_count > 0
    finally:
        await client.close()


def kinds(day: dict) -> dict[str, tuple]:
    return {k["kind"]: (k["quantity"], k["rows"]) for k in day["kinds"]}


async def test_movements_by_kind_per_local_day(
    stack: Stack, client: httpx.AsyncClient, tenant: Tenant
) -> None:
    store, other = new_store(), new_store()
    # Day 1: a delivery (A 10, B 5.5) and an adjustment of A (-1, then +0.25: two rows).
    await receive(client, tenant, store, [("A", 10, 2), ("B", "5.5", 1)])
    assert_ok(await adjust(client, tenant, store, [line("A", -1)]), 201)
    assert_ok(await adjust(client, tenant, store, [line("B", "0.25")]), 201)
    probe = assert_ok(await movements(client, tenant, store, "2026-03-01", "2026-03-01"))
    zone = ZoneInfo(probe["data"]["timezone"])
    day1 = datetime(2026, 3, 1, 12, 0, tzinfo=zone)
    await redate(stack, tenant, store, None, day1)
    # Day 2, at 00:30 local (still the day before in UTC for any zone east of it): two sales
    # of A (2 and 1), a return of A (1), B shipped to another store (2), and a count of A
    # (expected 10 - 1 - 3 + 1 = 7, counted 6: variance -1).
    await post_log(stack, client, tenant, store, [("A", 2)])
    await post_log(stack, client, tenant, store, [("A", 1)])
    await post_log(stack, client, tenant, store, [("A", 1)], kind=102)
    assert_ok(await ship(client, tenant, store, other, [("B", 2)]), 201)
    count = await open_count(client, tenant, store, {"itemCodes": ["A"]})
    assert_ok(await enter(client, tenant, store, count["countId"], [entry("A", "shelf", 6)]))
    assert_ok(
        await client.post(
            tenant.stock(store, f"/counts/{count['countId']}/post"), headers=tenant.admin
        )
    )
    await redate(stack, tenant, store, day1, datetime(2026, 3, 2, 0, 30, tzinfo=zone))

    body = assert_ok(await movements(client, tenant, store, "2026-03-01", "2026-03-03"))
    assert body["operation"] == "get_stock_movements"
    data = body["data"]
    assert (data["storeCode"], data["fromDate"], data["toDate"]) == (
        store,
        "2026-03-01",
        "2026-03-03",
    )
    assert [d["date"] for d in data["days"]] == ["2026-03-01", "2026-03-02", "2026-03-03"]
    first, second, third = data["days"]
    assert [k["kind"] for k in first["kinds"]] == ["adjustment", "receipt"]
    assert kinds(first) == {"receipt": (15.5, 2), "adjustment": (-0.75, 2)}
    assert [k["kind"] for k in second["kinds"]] == [
        "sale",
        "return",
        "transfer_out",
        "count",
    ]
    assert kinds(second) == {
        "sale": (-3, 2),
        "return": (1, 1),
        "transfer_out": (-2, 1),
        "count": (-1, 1),
    }
    assert third["kinds"] == []
    # One day alone; the receiving store sees nothing of the sender's (its transfer_in comes
    # with its receipt, not written here).
    only = assert_ok(await movements(client, tenant, store, "2026-03-02", "2026-03-02"))["data"]
    assert [d["date"] for d in only["days"]] == ["2026-03-02"]
    assert kinds(only["days"][0]) == kinds(second)
    elsewhere = assert_ok(await movements(client, tenant, other, "2026-03-01", "2026-03-02"))
    assert all(d["kinds"] == [] for d in elsewhere["data"]["days"])


async def test_bad_ranges_are_refused(client: httpx.AsyncClient, tenant: Tenant) -> None:
    store = new_store()
    for start, end in [
        ("2026-03-02", "2026-03-01"),  # from after to
        ("2026-01-01", "2026-04-03"),  # 92 days is the most: this is 93
        ("2026-3-1", "2026-03-02"),  # not YYYY-MM-DD
        ("2026-03-01T00:00", "2026-03-02"),
        ("2026-02-30", "2026-03-02"),
    ]:
        assert_error(await movements(client, tenant, store, start, end), 422, "300001")
    r = await client.get(
        tenant.stock(store, "/movements"), params={"from": "2026-03-01"}, headers=tenant.admin
    )
    assert_error(r, 422)
    # 92 days exactly is fine.
    data = assert_ok(await movements(client, tenant, store, "2026-01-01", "2026-04-02"))["data"]
    assert len(data["days"]) == 92


async def test_movements_are_read_by_the_tenant_only(
    client: httpx.AsyncClient, tenant: Tenant, codec
) -> None:
    store = new_store()
    till = await tenant.till(store)
    assert_ok(await movements(client, tenant, store, "2026-03-01", "2026-03-01", headers=till))
    other = await setup_tenant(client, codec)
    r = await movements(client, tenant, store, "2026-03-01", "2026-03-01", headers=other.admin)
    assert_error(r, 403, "200002")
    r = await movements(client, tenant, store, "2026-03-01", "2026-03-01", headers={})
    assert_error(r, 401, "200001")


async def test_movements_is_a_path_segment_not_an_item(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    store = new_store()
    r = await client.put(
        tenant.stock(store, "/movements/update"),
        json={"quantityChange": 1, "updateType": "adjustment"},
        headers=tenant.admin,
    )
    assert_error(r, 404, "414001")
    assert_error(await adjust(client, tenant, store, [line("movements", 1)]), 422)
    assert (
        assert_ok(await client.get(tenant.stock(store), headers=tenant.admin))["data"]["data"] == []
    )


def test_a_gift_card_sold_moves_no_stock() -> None:
    """A line selling stored value (issue 26) is money put on a card: no stock change, while
    the goods of the same sale move as always."""
    from kugelpos.common.events.logs import TransactionLog
    from kugelpos.stock.sales import stock_changes

    log = TransactionLog.model_validate(
        {
            "tenant_id": "T1",
            "store_code": "S1",
            "terminal_no": 1,
            "business_date": "20261207",
            "generate_date_time": "2026-12-07T10:00:00+09:00",
            "transaction_no": 7,
            "transaction_type": 101,
            "line_items": [
                {"line_no": 1, "item_code": "GIFT", "quantity": 1, "is_stored_value": True},
                {"line_no": 2, "item_code": "4901", "quantity": 2},
            ],
        }
    )
    changes = stock_changes(log)
    assert [(c.item_code, c.quantity_change) for c in changes] == [("4901", -2)]
