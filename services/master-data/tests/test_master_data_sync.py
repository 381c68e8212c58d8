"""The store's data feed (`GET .../stores/{s}/sync`) and prices at an instant
(`POST .../stores/{s}/items/prices-at`), issue 27 part 1: snapshot paging, deltas in order with
deletions, another store's prices kept out, cursors, access, and prices from the change log."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import httpx
import pytest
from pymongo import AsyncMongoClient
from pymongo.errors import OperationFailure

from kugelpos.common.auth.tokens import TokenCodec
from kugelpos.common.db.mongo import Mongo
from kugelpos.common.errors import ConflictError
from kugelpos.devstack.stack import Stack
from kugelpos.master_data.changes.documents import LogKind
from kugelpos.master_data.changes.log import ChangeLog
from kugelpos.master_data.config import MasterDataSettings, TaxEntry
from kugelpos.testkit.testing import assert_error, assert_ok

from .conftest import Tenant, new_tenant

type Change = dict[str, Any]
DEFAULT_TAXES = {"00", "01", "02", "11", "12"}
FAR = (datetime.now(UTC) + timedelta(days=365)).isoformat()
PAST = (datetime.now(UTC) - timedelta(days=1)).isoformat()


def item(code: str, price: float = 100, **over: Any) -> dict:
    return {
        "itemCode": code,
        "description": f"Item {code}",
        "unitPrice": price,
        "unitCost": 50,
        "itemDetails": [],
        "imageUrls": [],
        "categoryCode": "C1",
        "taxCode": "01",
    } | over


def promotion(code: str, stores: list[str] | None = None, **over: Any) -> dict:
    return {
        "promotionCode": code,
        "promotionType": "category_discount",
        "name": f"Promo {code}",
        "startDatetime": PAST,
        "endDatetime": FAR,
        "detail": {
            "targetStoreCodes": stores or [],
            "targetCategoryCodes": ["C1"],
            "discountRate": 10,
        },
    } | over


async def sync(
    md: httpx.AsyncClient,
    tenant: Tenant,
    headers: dict[str, str],
    *,
    store: str = "S1",
    since: str | None = None,
    limit: int | None = None,
) -> dict:
    params: dict[str, Any] = {}
    if since is not None:
        params["since"] = since
    if limit is not None:
        params["limit"] = limit
    r = await md.get(f"{tenant.base}/stores/{store}/sync", params=params, headers=headers)
    return assert_ok(r)["data"]


async def snapshot(
    md: httpx.AsyncClient, tenant: Tenant, headers: dict[str, str], *, store: str = "S1", limit=500
) -> tuple[list[Change], str, int]:
    """(every change of a full snapshot, the cursor it ends on, pages read)."""
    page = await sync(md, tenant, headers, store=store, limit=limit)
    changes, pages = list(page["changes"]), 1
    while page["hasMore"]:
        page = await sync(md, tenant, headers, store=store, since=page["cursor"], limit=limit)
        changes += page["changes"]
        pages += 1
    return changes, page["cursor"], pages


async def delta(
    md: httpx.AsyncClient, tenant: Tenant, headers: dict[str, str], since: str, **kw: Any
) -> tuple[list[Change], str]:
    changes: list[Change] = []
    while True:
        page = await sync(md, tenant, headers, since=since, **kw)
        changes += page["changes"]
        since = page["cursor"]
        if not page["hasMore"]:
            return changes, since


def apply(state: dict[tuple[str, str], Any], changes: Iterable[Change]) -> None:
    """What a till does with a page: upsert or delete by kind and key."""
    for c in changes:
        assert c["op"] in ("upsert", "delete"), c
        if c["op"] == "upsert":
            state[(c["kind"], c["key"])] = c["data"]
        else:
            state.pop((c["kind"], c["key"]), None)


def as_state(changes: Iterable[Change]) -> dict[tuple[str, str], Any]:
    state: dict[tuple[str, str], Any] = {}
    apply(state, changes)
    return state


def summary(changes: Iterable[Change]) -> list[tuple[str, str, str]]:
    return [(c["kind"], c["key"], c["op"]) for c in changes]


async def post(md: httpx.AsyncClient, url: str, body: dict, headers: dict[str, str]) -> dict:
    return assert_ok(await md.post(url, json=body, headers=headers), 201)["data"]


@pytest.fixture
async def fresh(stack: Stack, codec: TokenCodec) -> Tenant:
    """A tenant of its own: a snapshot sees only what the test made."""
    return await new_tenant(stack, codec)


async def seed(md: httpx.AsyncClient, t: Tenant) -> None:
    h = t.admin
    await post(
        md,
        f"{t.base}/categories",
        {"categoryCode": "C1", "description": "Drinks", "descriptionShort": "Drk", "taxCode": "01"},
        h,
    )
    for n in range(7):
        await post(md, f"{t.base}/items", item(f"I{n}", 100 + n), h)
    await post(md, f"{t.base}/stores/S1/items", {"itemCode": "I1", "storePrice": 90}, h)
    await post(md, f"{t.base}/stores/S2/items", {"itemCode": "I2", "storePrice": 80}, h)
    await post(
        md,
        f"{t.base}/payments",
        {
            "paymentCode": "01",
            "description": "Cash",
            "limitAmount": 0,
            "canRefund": True,
            "canDepositOver": True,
            "canChange": True,
            "isActive": True,
        },
        h,
    )
    await post(md, f"{t.base}/settings", {"name": "RECEIPT", "defaultValue": "A", "values": []}, h)
    await post(md, f"{t.base}/staff", {"id": "ST1", "name": "Ann", "pin": "1234", "roles": []}, h)
    await post(
        md,
        f"{t.base}/return-reasons",
        {"reasonCode": "DAMAGED", "description": "Damaged", "restock": False},
        h,
    )
    await post(md, f"{t.base}/promotions", promotion("PR1"), h)
    await post(md, f"{t.base}/promotions", promotion("PR-S2", ["S2"]), h)


async def test_snapshot_pages_through_every_kind(md: httpx.AsyncClient, fresh: Tenant) -> None:
    await seed(md, fresh)
    till = await fresh.till("S1")
    whole, end, pages = await snapshot(md, fresh, till, limit=1000)
    assert pages == 1
    paged, paged_end, paged_pages = await snapshot(md, fresh, till, limit=3)
    # 5 taxes, 1 category, 1 payment, 1 setting, 1 staff, 1 reason, 1 promotion, 7 items = 18.
    assert len(whole) == 18 and paged_pages == 6
    assert paged == whole and paged_end == end
    assert len({(c["kind"], c["key"]) for c in whole}) == len(whole)  # nothing twice
    assert all(c["op"] == "upsert" for c in whole)
    state = as_state(whole)
    assert {k for kind, k in state if kind == "tax"} == DEFAULT_TAXES
    assert state[("tax", "01")] == {
        "taxCode": "01",
        "taxType": "External",
        "taxName": "外税10%",
        "rate": 10.0,
        "roundDigit": -1,
        "roundMethod": "Floor",
    }
    # This store's price overrides the item's; another store's does not reach it.
    assert state[("item", "I1")]["price"] == 90.0
    assert state[("item", "I1")]["unitPrice"] == 101.0
    assert state[("item", "I1")]["storePrice"] == 90.0
    assert state[("item", "I2")]["price"] == 102.0 and state[("item", "I2")]["storePrice"] is None
    assert ("promotion", "PR1") in state and ("promotion", "PR-S2") not in state
    staff = state[("staff", "ST1")]
    assert staff == {"id": "ST1", "name": "Ann", "roles": [], "status": None, "hasPin": True}
    assert "1234" not in json.dumps(whole) and "$2" not in json.dumps(whole)  # no PIN, no hash
    assert state[("category", "C1")]["taxCode"] == "01"
    assert state[("setting", "RECEIPT")] == {"name": "RECEIPT", "defaultValue": "A", "values": []}
    assert state[("return_reason", "DAMAGED")]["restock"] is False
    assert state[("payment", "01")]["canChange"] is True
    # The snapshot's last cursor is a delta cursor: nothing changed since, nothing comes.
    page = await sync(md, fresh, till, since=end)
    assert page == {"changes": [], "cursor": end, "hasMore": False}
    # S2's snapshot has its own price and its own promotion.
    s2 = as_state((await snapshot(md, fresh, await fresh.till("S2"), store="S2"))[0])
    assert s2[("item", "I2")]["price"] == 80.0 and s2[("item", "I1")]["price"] == 101.0
    assert ("promotion", "PR-S2") in s2


async def test_a_change_while_paging_comes_in_the_delta_from_the_last_cursor(
    md: httpx.AsyncClient, fresh: Tenant
) -> None:
    await seed(md, fresh)
    till = await fresh.till("S1")
    first = await sync(md, fresh, till, limit=4)
    assert first["hasMore"]
    # Changed after the mark was taken (items are read on a later page than the first).
    r = await md.put(f"{fresh.base}/items/I0", json=item("I0", 555), headers=fresh.admin)
    assert_ok(r)
    changes, cursor = list(first["changes"]), first["cursor"]
    while True:
        page = await sync(md, fresh, till, since=cursor, limit=4)
        changes += page["changes"]
        cursor = page["cursor"]
        if not page["hasMore"]:
            break
    later, _ = await delta(md, fresh, till, cursor)
    assert summary(later) == [("item", "I0", "upsert")]
    state = as_state(changes)
    apply(state, later)
    assert state[("item", "I0")]["price"] == 555.0


async def test_a_delta_brings_each_change_in_order_with_deletions(
    md: httpx.AsyncClient, fresh: Tenant, mongo: AsyncMongoClient, stack: Stack
) -> None:
    await seed(md, fresh)
    h, base = fresh.admin, fresh.base
    till = await fresh.till("S1")
    s2_till = await fresh.till("S2")
    before, cursor, _ = await snapshot(md, fresh, till)
    _, s2_cursor, _ = await snapshot(md, fresh, s2_till, store="S2")

    assert_ok(await md.put(f"{base}/items/I3", json=item("I3", 130), headers=h))  # price
    assert_ok(await md.put(f"{base}/items/I4", json=item("I4", 104, taxCode="11"), headers=h))
    r = await md.put(
        f"{base}/promotions/PR1",
        json={"detail": {"targetCategoryCodes": ["C1"], "discountRate": 15}},
        headers=h,
    )
    assert_ok(r)
    await post(md, f"{base}/stores/S1/items", {"itemCode": "I5", "storePrice": 95}, h)
    r = await md.put(f"{base}/stores/S2/items/I2", json={"storePrice": 70}, headers=h)
    assert_ok(r)  # another store's price: not in S1's delta
    assert_ok(await md.delete(f"{base}/items/I6", params={"is_logical": "true"}, headers=h))
    assert_ok(await md.delete(f"{base}/stores/S1/items/I1", headers=h))  # back to unitPrice
    await post(md, f"{base}/staff", {"id": "ST2", "name": "Bob", "pin": "9876", "roles": []}, h)
    assert_ok(await md.delete(f"{base}/staff/ST1", headers=h))
    assert_ok(await md.delete(f"{base}/promotions/PR1", headers=h))
    assert_ok(await md.delete(f"{base}/return-reasons/DAMAGED", headers=h))
    r = await md.put(
        f"{base}/settings/RECEIPT",
        json={
            "defaultValue": "B",
            "values": [{"storeCode": "S1", "value": "S1V"}, {"storeCode": "S2", "value": "S2V"}],
        },
        headers=h,
    )
    assert_ok(r)

    changes, end = await delta(md, fresh, till, cursor, limit=3)
    assert summary(changes) == [
        ("item", "I3", "upsert"),
        ("item", "I4", "upsert"),
        ("promotion", "PR1", "upsert"),
        ("item", "I5", "upsert"),
        ("item", "I6", "delete"),
        ("item", "I1", "upsert"),
        ("staff", "ST2", "upsert"),
        ("staff", "ST1", "delete"),
        ("promotion", "PR1", "delete"),
        ("return_reason", "DAMAGED", "delete"),
        ("setting", "RECEIPT", "upsert"),
    ]
    by_key = {(c["kind"], c["key"]): c for c in changes}
    assert by_key[("item", "I3")]["data"]["price"] == 130.0
    assert by_key[("item", "I4")]["data"]["taxCode"] == "11"
    assert by_key[("item", "I5")]["data"]["price"] == 95.0
    assert by_key[("item", "I1")]["data"]["price"] == 101.0
    assert by_key[("item", "I1")]["data"]["storePrice"] is None
    assert by_key[("staff", "ST2")]["data"]["hasPin"] is True
    assert all(c["data"] is None for c in changes if c["op"] == "delete")
    assert "9876" not in json.dumps(changes) and "pin_hash" not in json.dumps(changes)
    # The setting carries the values of this store, never another store's.
    assert by_key[("setting", "RECEIPT")]["data"]["values"] == [
        {"storeCode": "S1", "terminalNo": None, "value": "S1V"}
    ]
    # Snapshot + delta = a fresh snapshot.
    state = as_state(before)
    apply(state, changes)
    assert state == as_state((await snapshot(md, fresh, till))[0])
    # The log's own entries: the staff member's data never holds a PIN or its hash.
    db = mongo[stack.db_name("master-data", fresh.tenant_id)]
    staff_entries = await db["master_change_log"].find({"kind": "staff"}).to_list()
    assert staff_entries and all(
        "pin_hash" not in (e["data"] or {}) and "pin" not in (e["data"] or {})
        for e in staff_entries
    )

    # S2 sees its own price change, and the price S1 got is not in its delta.
    s2_changes, _ = await delta(md, fresh, s2_till, s2_cursor, store="S2")
    # The common items' changes, its own price; S1's prices (I5, I1) are not S2's business.
    assert [c[:3] for c in summary(s2_changes) if c[0] == "item"] == [
        ("item", "I3", "upsert"),
        ("item", "I4", "upsert"),
        ("item", "I2", "upsert"),
        ("item", "I6", "delete"),
    ]
    s2_items = {c["key"]: c for c in s2_changes if c["kind"] == "item"}
    assert s2_items["I2"]["data"]["price"] == 70.0
    assert s2_items["I3"]["data"]["price"] == 130.0

    # Nothing changed since: an empty delta with the same cursor.
    assert await sync(md, fresh, till, since=end) == {
        "changes": [],
        "cursor": end,
        "hasMore": False,
    }


async def test_a_record_changed_twice_in_a_page_comes_once_at_its_last_change(
    md: httpx.AsyncClient, fresh: Tenant
) -> None:
    till = await fresh.till("S1")
    _, cursor, _ = await snapshot(md, fresh, till)
    h, base = fresh.admin, fresh.base
    await post(md, f"{base}/items", item("A", 10), h)
    await post(md, f"{base}/items", item("B", 20), h)
    assert_ok(await md.put(f"{base}/items/A", json=item("A", 11), headers=h))
    assert_ok(await md.delete(f"{base}/items/B", headers=h))  # physical
    await post(md, f"{base}/items", item("B", 21), h)  # and again
    changes, _ = await delta(md, fresh, till, cursor)
    assert summary(changes) == [("item", "A", "upsert"), ("item", "B", "upsert")]
    assert [c["data"]["price"] for c in changes] == [11.0, 21.0]
    # One at a time, the till sees every step (the delete included).
    one_by_one, _ = await delta(md, fresh, till, cursor, limit=1)
    assert summary(one_by_one) == [
        ("item", "A", "upsert"),
        ("item", "B", "upsert"),
        ("item", "A", "upsert"),
        ("item", "B", "delete"),
        ("item", "B", "upsert"),
    ]


def _cursor(body: dict) -> str:
    raw = json.dumps(body, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


async def test_a_bad_cursor_is_a_400_and_writes_nothing(
    md: httpx.AsyncClient, fresh: Tenant, mongo: AsyncMongoClient, stack: Stack
) -> None:
    till = await fresh.till("S1")
    _, good, _ = await snapshot(md, fresh, till)
    db = mongo[stack.db_name("master-data", fresh.tenant_id)]
    counter = await db["master_change_counter"].find({}).to_list()
    entries = await db["master_change_log"].count_documents({})
    t = fresh.tenant_id
    for bad in (
        "not base64 at all!",
        "AAAA",
        _cursor({"v": 1, "t": t, "st": "S1", "s": -1}),
        _cursor({"v": 1, "t": t, "st": "S1", "s": "12"}),
        _cursor({"v": 1, "t": t, "st": "S1", "s": True}),
        _cursor({"v": 2, "t": t, "st": "S1", "s": 1}),
        _cursor({"v": 1, "t": t, "st": "S2", "s": 1}),  # another store's
        _cursor({"v": 1, "t": "OTHER", "st": "S1", "s": 1}),  # another tenant's
        _cursor({"v": 1, "t": t, "st": "S1", "m": 1, "k": 99, "a": None}),
        _cursor({"v": 1, "t": t, "st": "S1", "m": 1, "k": 1, "a": 5}),
        _cursor([1, 2]),
        good[:-3],
    ):
        r = await md.get(f"{fresh.base}/stores/S1/sync", params={"since": bad}, headers=till)
        body = assert_error(r, 400, "405001")
        assert "cursor" in body["message"]
    r = await md.get(f"{fresh.base}/stores/S1/sync", params={"since": "x" * 600}, headers=till)
    assert_error(r, 422, "300001")
    for limit in (0, 1001, -1, "many"):
        r = await md.get(f"{fresh.base}/stores/S1/sync", params={"limit": limit}, headers=till)
        assert_error(r, 422, "300001")
    assert await db["master_change_counter"].find({}).to_list() == counter
    assert await db["master_change_log"].count_documents({}) == entries


async def test_who_may_read_the_feed(
    md: httpx.AsyncClient, fresh: Tenant, other_tenant: Tenant
) -> None:
    url = f"{fresh.base}/stores/S1/sync"
    for headers in (
        await fresh.till("S1"),
        await fresh.till("S1", 2),
        fresh.admin,
        fresh.manager,
        fresh.service,
    ):
        assert_ok(await md.get(url, headers=headers))
    assert_error(await md.get(url, headers=await fresh.till("S2")), 403, "200002")
    assert_error(await md.get(url, headers=fresh.user("user")), 403, "200002")  # a clerk
    assert_error(await md.get(url, headers=other_tenant.admin), 403, "200002")
    assert_error(await md.get(url, headers=await other_tenant.till("S1")), 403, "200002")
    assert_error(await md.get(url), 401, "200001")


async def test_the_tax_table_is_logged_when_the_configuration_changes(
    md: httpx.AsyncClient, fresh: Tenant, stack: Stack
) -> None:
    """Taxes are configuration: a process started with another TAX_MASTER logs the difference
    (here a ChangeLog built with another table, on the service's own database)."""
    till = await fresh.till("S1")
    _, cursor, _ = await snapshot(md, fresh, till)
    settings = MasterDataSettings(
        environment="development",
        mongodb_uri=stack.mongo_uri_for("master-data"),
        db_name_prefix=stack.db_prefix("master-data"),
        tax_master=[
            TaxEntry(
                tax_code="01",
                tax_type="External",
                tax_name="外税10%",
                rate=10,
                round_digit=-1,
                round_method="Floor",
            ),
            TaxEntry(
                tax_code="21",
                tax_type="External",
                tax_name="New 5%",
                rate=5,
                round_digit=0,
                round_method="Round",
            ),
        ],
    )
    mongo = Mongo(settings)
    try:
        changes = ChangeLog(mongo, settings)
        assert await changes.log_tax_table(fresh.tenant_id) is True
        assert await changes.log_tax_table(fresh.tenant_id) is False  # logged once
    finally:
        await mongo.close()
    logged, _ = await delta(md, fresh, till, cursor)
    assert sorted(summary(logged)) == [
        ("tax", "00", "delete"),
        ("tax", "02", "delete"),
        ("tax", "11", "delete"),
        ("tax", "12", "delete"),
        ("tax", "21", "upsert"),
    ]
    assert next(c for c in logged if c["key"] == "21")["data"]["rate"] == 5.0


# ---- prices at an instant ------------------------------------------------------------------


async def prices_at(
    md: httpx.AsyncClient,
    t: Tenant,
    codes: list[str],
    at: datetime | str,
    *,
    store: str = "S1",
    headers: dict[str, str] | None = None,
) -> dict:
    r = await md.post(
        f"{t.base}/stores/{store}/items/prices-at",
        json={"itemCodes": codes, "at": at if isinstance(at, str) else at.isoformat()},
        headers=headers or t.service,
    )
    return assert_ok(r)["data"]


async def _tick() -> datetime:
    """An instant strictly between two changes (the log's clock has millisecond steps)."""
    await asyncio.sleep(0.02)
    moment = datetime.now(UTC)
    await asyncio.sleep(0.02)
    return moment


async def test_prices_at_an_instant(
    md: httpx.AsyncClient, fresh: Tenant, mongo: AsyncMongoClient, stack: Stack
) -> None:
    h, base = fresh.admin, fresh.base
    t0 = await _tick()
    await post(md, f"{base}/items", item("P", 100), h)
    t1 = await _tick()
    assert_ok(await md.put(f"{base}/items/P", json=item("P", 120), headers=h))
    await post(md, f"{base}/stores/S1/items", {"itemCode": "P", "storePrice": 90}, h)
    t2 = await _tick()
    assert_ok(await md.delete(f"{base}/stores/S1/items/P", headers=h))
    assert_ok(await md.delete(f"{base}/items/P", params={"is_logical": "true"}, headers=h))
    t3 = await _tick()
    # An item from before the log (written straight to the collection, as records made
    # before the feed existed are): its current price, said to be so.
    db = mongo[stack.db_name("master-data", fresh.tenant_id)]
    await db["master_item_common"].insert_one(
        {
            "tenant_id": fresh.tenant_id,
            "item_code": "OLD",
            "description": "Old",
            "unit_price": 70.0,
            "unit_cost": 0.0,
            "category_code": "C1",
            "tax_code": "01",
            "is_deleted": False,
            "created_at": datetime.now(UTC),
        }
    )
    await db["master_item_store"].insert_one(
        {"tenant_id": fresh.tenant_id, "store_code": "S1", "item_code": "OLD", "store_price": 65.0}
    )

    def price(data: dict, code: str) -> dict:
        return next(p for p in data["prices"] if p["itemCode"] == code)

    at0 = await prices_at(md, fresh, ["P", "OLD", "NOPE"], t0)
    assert sorted(at0["unknown"]) == ["NOPE", "P"]  # P was created after t0
    assert price(at0, "OLD") == {
        "itemCode": "OLD",
        "price": 65.0,
        "unitPrice": 70.0,
        "storePrice": 65.0,
        "taxCode": "01",
        "source": "current",
    }
    at1 = await prices_at(md, fresh, ["P"], t1)
    assert at1["prices"] == [
        {"itemCode": "P", "price": 100.0, "unitPrice": 100.0, "storePrice": None,
         "taxCode": "01", "source": "log"}
    ]  # fmt: skip
    assert at1["unknown"] == [] and at1["storeCode"] == "S1"
    at2 = await prices_at(md, fresh, ["P"], t2.astimezone(timezone(timedelta(hours=9))).isoformat())
    assert at2["prices"][0] == {
        "itemCode": "P",
        "price": 90.0,
        "unitPrice": 120.0,
        "storePrice": 90.0,
        "taxCode": "01",
        "source": "log",
    }
    assert at2["at"].endswith("Z")
    # Another store never had a store price: the item's price from the log.
    other = await prices_at(md, fresh, ["P"], t2, store="S2")
    assert price(other, "P")["price"] == 120.0
    assert (await prices_at(md, fresh, ["P"], t3))["unknown"] == ["P"]  # deleted by then

    # Several instants in one read (the offline intake's batch): answered in the order asked,
    # each as the single-instant form answers it.
    asked = [("P", t2), ("P", t0), ("OLD", t3), ("P", t1), ("NOPE", t1), ("P", t3)]
    r = await md.post(
        f"{base}/stores/S1/items/prices-at/lookups",
        json={"lookups": [{"itemCode": c, "at": t.isoformat()} for c, t in asked]},
        headers=fresh.service,
    )
    results = assert_ok(r)["data"]["results"]
    assert [(x["itemCode"], x["known"], x["price"], x["source"]) for x in results] == [
        ("P", True, 90.0, "log"),
        ("P", False, None, None),
        ("OLD", True, 65.0, "current"),
        ("P", True, 100.0, "log"),
        ("NOPE", False, None, None),
        ("P", False, None, None),
    ]
    assert all(x["at"].endswith("Z") for x in results)
    refused = await md.post(
        f"{base}/stores/S1/items/prices-at/lookups",
        json={"lookups": [{"itemCode": "P", "at": t1.isoformat()}]},
        headers=await fresh.till("S1"),
    )
    assert_error(refused, 403, "200002")
    too_many = {"lookups": [{"itemCode": "P", "at": t1.isoformat()}] * 1001}
    r = await md.post(f"{base}/stores/S1/items/prices-at/lookups", json=too_many, headers=h)
    assert_error(r, 422)


async def test_prices_at_refusals(
    md: httpx.AsyncClient, fresh: Tenant, other_tenant: Tenant
) -> None:
    url = f"{fresh.base}/stores/S1/items/prices-at"
    body = {"itemCodes": ["X"], "at": datetime.now(UTC).isoformat()}
    for headers in (fresh.admin, fresh.manager, fresh.service):
        assert_ok(await md.post(url, json=body, headers=headers))
    assert_error(await md.post(url, json=body, headers=await fresh.till("S1")), 403, "200002")
    assert_error(await md.post(url, json=body, headers=fresh.user("user")), 403, "200002")
    assert_error(await md.post(url, json=body, headers=other_tenant.admin), 403, "200002")
    for bad in (
        {"itemCodes": [], "at": body["at"]},
        {"itemCodes": [f"C{n}" for n in range(1001)], "at": body["at"]},
        {"itemCodes": ["X"], "at": "2026-12-07T10:00:00"},  # no offset: not an instant
        {"itemCodes": ["X"], "at": "yesterday"},
        {"itemCodes": ["a/b"], "at": body["at"]},
        {"itemCodes": ["X"]},
    ):
        assert_error(await md.post(url, json=bad, headers=fresh.service), 422)
    many = {"itemCodes": [f"C{n}" for n in range(1000)], "at": body["at"]}
    data = assert_ok(await md.post(url, json=many, headers=fresh.service))["data"]
    assert len(data["unknown"]) == 1000 and data["prices"] == []


async def test_each_write_logs_one_entry_in_its_transaction_and_a_refusal_none(
    md: httpx.AsyncClient, fresh: Tenant, mongo: AsyncMongoClient, stack: Stack
) -> None:
    db = mongo[stack.db_name("master-data", fresh.tenant_id)]

    async def log() -> tuple[int, list[dict]]:
        counter = await db["master_change_counter"].find_one({"_id": "seq"})
        entries = await db["master_change_log"].find({}, {"_id": False}).sort("seq").to_list()
        return counter["seq"], entries

    seq0, entries0 = await log()
    assert [e["seq"] for e in entries0] == list(range(1, seq0 + 1))  # the tax table's
    # 20 writes at once: each one entry, seqs without gap or repeat.
    await asyncio.gather(
        *(post(md, f"{fresh.base}/items", item(f"CC{n:02d}"), fresh.admin) for n in range(20))
    )
    seq1, entries1 = await log()
    assert seq1 == seq0 + 20
    assert [e["seq"] for e in entries1] == list(range(1, seq1 + 1))
    assert sorted(e["key"] for e in entries1[seq0:]) == [f"CC{n:02d}" for n in range(20)]
    first = entries1[seq0]
    assert first["kind"] == "item" and first["op"] == "upsert" and first["created"] is True
    assert first["store_code"] is None and first["data"]["unit_price"] == 100.0
    assert "tenant_id" not in first["data"]
    # Refused writes (a duplicate, an unknown record, a bad body) log nothing, use no seq.
    h = fresh.admin
    assert_error(await md.post(f"{fresh.base}/items", json=item("CC00"), headers=h), 409)
    assert_error(await md.put(f"{fresh.base}/items/NONE", json=item("NONE"), headers=h), 404)
    assert_error(await md.delete(f"{fresh.base}/staff/NONE", headers=h), 404)
    r = await md.put(f"{fresh.base}/stores/S1/items/NONE", json={"storePrice": 1}, headers=h)
    assert_error(r, 404)
    assert_error(await md.post(f"{fresh.base}/items", json={"itemCode": "X"}, headers=h), 422)
    assert await log() == (seq1, entries1)
    # A store price's entry names its store.
    await post(md, f"{fresh.base}/stores/S9/items", {"itemCode": "CC01", "storePrice": 7}, h)
    seq2, entries2 = await log()
    assert entries2[-1] | {"at": None} == {
        "seq": seq2,
        "kind": "store_item",
        "key": "CC01",
        "store_code": "S9",
        "op": "upsert",
        "at": None,
        "data": entries2[-1]["data"],
        "created": True,
    }
    assert entries2[-1]["data"]["store_price"] == 7.0


async def test_a_write_conflict_runs_the_change_again_and_a_lasting_one_is_a_409(
    fresh: Tenant, stack: Stack
) -> None:
    """Two writes of a tenant at once conflict on the log's counter (on a replica set): the
    change runs again, its entry written once; a conflict lost on every attempt is a 409
    `500009` the client may retry, nothing written (never a 500)."""
    settings = MasterDataSettings(
        environment="development",
        mongodb_uri=stack.mongo_uri_for("master-data"),
        db_name_prefix=stack.db_prefix("master-data"),
    )
    mongo = Mongo(settings)
    changes = ChangeLog(mongo, settings)
    repo = changes.repo(fresh.tenant_id)
    conflict = OperationFailure(
        "WriteConflict", code=112, details={"errorLabels": ["TransientTransactionError"]}
    )
    try:
        before = await repo.high_water()
        runs = 0

        async def once_conflicting(session) -> int:
            nonlocal runs
            runs += 1
            seq = await changes.record(session, fresh.tenant_id, LogKind.SETTING, "K", {"n": runs})
            if runs == 1:
                raise conflict
            return seq

        assert await changes.transaction(once_conflicting) == before + 1
        assert runs == 2 and await repo.high_water() == before + 1
        assert [e.data for e in await repo.after(before, 10)] == [{"n": 2}]

        async def always_conflicting(session) -> None:
            await changes.record(session, fresh.tenant_id, LogKind.SETTING, "K", {"n": 0})
            raise conflict

        with pytest.raises(ConflictError) as raised:
            await changes.transaction(always_conflicting)
        assert raised.value.status_code == 409 and raised.value.error_code == "500009"
        assert await repo.high_water() == before + 1
        assert len(await repo.after(before, 10)) == 1
    finally:
        await mongo.close()
