"""The change log's daily compaction: entries older than the retention that a later entry of the
same record replaced are deleted, once a day per tenant by one replica. A till's delta from any
cursor, a fresh snapshot and the prices in force since the horizon answer as before."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from pymongo import AsyncMongoClient

from kugelpos.common.db.mongo import Mongo
from kugelpos.devstack.stack import Stack
from kugelpos.master_data.changes.compaction import ChangeLogCompaction
from kugelpos.master_data.changes.repository import ChangeLogRepository
from kugelpos.master_data.config import MasterDataSettings
from kugelpos.testkit.testing import assert_ok

from .conftest import Tenant, new_tenant
from .test_master_data_sync import _tick as tick
from .test_master_data_sync import item

CATEGORY = {"categoryCode": "C1", "description": "Drinks", "descriptionShort": "D", "taxCode": "01"}


async def feed(
    md: httpx.AsyncClient, t: Tenant, since: str | None = None, held: dict | None = None
) -> tuple[dict, str]:
    """A till's copy of store S1 after a full snapshot (since None), or `held` brought up to
    date by the delta from `since`, and the cursor it ends on."""
    state: dict[tuple[str, str], Any] = dict(held or {})
    while True:
        params = {"limit": 50} | ({"since": since} if since else {})
        r = await md.get(f"{t.base}/stores/S1/sync", params=params, headers=t.admin)
        page = assert_ok(r)["data"]
        for c in page["changes"]:
            if c["op"] == "upsert":
                state[(c["kind"], c["key"])] = c["data"]
            else:
                state.pop((c["kind"], c["key"]), None)
        since = page["cursor"]
        if not page["hasMore"]:
            return state, since


async def lookups(md: httpx.AsyncClient, t: Tenant, asked: list[tuple[str, datetime]]) -> list:
    r = await md.post(
        f"{t.base}/stores/S1/items/prices-at/lookups",
        json={"lookups": [{"itemCode": c, "at": at.isoformat()} for c, at in asked]},
        headers=t.service,
    )
    return assert_ok(r)["data"]["results"]


def replicas(stack: Stack, retention_days: int = 30) -> tuple[Mongo, ChangeLogCompaction, ...]:
    """Two compaction jobs as two replicas hold them, on the service's own databases."""
    settings = MasterDataSettings(
        environment="development",
        mongodb_uri=stack.mongo_uri_for("master-data"),
        db_name_prefix=stack.db_prefix("master-data"),
        change_log_retention_days=retention_days,
    )
    mongo = Mongo(settings)
    return mongo, ChangeLogCompaction(mongo, settings), ChangeLogCompaction(mongo, settings)


@pytest.fixture
async def fresh(stack: Stack, codec) -> Tenant:
    return await new_tenant(stack, codec)


async def test_compaction_keeps_each_records_last_entry_and_what_tills_see(
    md: httpx.AsyncClient, fresh: Tenant, mongo: AsyncMongoClient, stack: Stack
) -> None:
    t, h = fresh, fresh.admin
    db = mongo[stack.db_name("master-data", t.tenant_id)]
    held, start = await feed(md, t)  # a till's copy before any of the changes below

    async def write(method: str, path: str, body: dict | None = None, status: int = 200):
        r = await md.request(method, f"{t.base}{path}", json=body, headers=h)
        assert_ok(r, status)

    # The old changes: prices changed again and again, a store price set then changed, an item
    # created then deleted, a staff member renamed, a setting changed.
    await write("POST", "/categories", CATEGORY, 201)
    for code in ("A", "B", "GONE"):
        await write("POST", "/items", item(code, 100), 201)
    for price in (110, 120, 130):
        await write("PUT", "/items/A", item("A", price))
    await write("POST", "/stores/S1/items", {"itemCode": "B", "storePrice": 90}, 201)
    await write("PUT", "/stores/S1/items/B", {"storePrice": 85})
    await write("DELETE", "/items/GONE?is_logical=true")
    await write("POST", "/staff", {"id": "ST1", "name": "Ann", "pin": "1234", "roles": []}, 201)
    await write("PUT", "/staff/ST1", {"name": "Anna", "pin": "1234", "roles": []})
    await write("POST", "/settings", {"name": "R", "defaultValue": "a", "values": []}, 201)
    await write("PUT", "/settings/R", {"defaultValue": "b", "values": []})
    horizon = await tick()
    # The changes since the horizon: kept whatever happened before them.
    await write("PUT", "/items/A", item("A", 140))
    await write("PUT", "/items/A", item("A", 150))
    later = await tick()
    await write("PUT", "/stores/S1/items/B", {"storePrice": 80})

    def log() -> Any:
        return db["master_change_log"].find({}, {"_id": False}).sort("seq").to_list()

    entries = await log()
    high_water = (await db["master_change_counter"].find_one({"_id": "seq"}))["seq"]
    till_before, _ = await feed(md, t, since=start, held=held)
    snapshot_before, _ = await feed(md, t)
    instants = [horizon, later, datetime.now(UTC)]
    asked = [(code, at) for code in ("A", "B", "GONE") for at in instants]
    prices_before = await lookups(md, t, asked)

    deleted = await ChangeLogRepository(db).compact(horizon)
    old = [e for e in entries if e["at"] < horizon]
    records = Counter((e["kind"], e["key"], e["store_code"]) for e in old)
    assert deleted == len(old) - len(records) >= 6
    kept = await log()
    # Each record's last entry before the horizon, and every entry since.
    last_old = {(e["kind"], e["key"], e["store_code"]): e["seq"] for e in old}
    assert [e["seq"] for e in kept] == sorted(
        [*last_old.values(), *(e["seq"] for e in entries if e["at"] >= horizon)]
    )
    assert (
        next(e for e in kept if e["key"] == "A" and e["kind"] == "item")["data"]["unit_price"]
        == 130.0
    )
    # What a till sees: the same (the counter untouched), and prices since the horizon.
    assert (await db["master_change_counter"].find_one({"_id": "seq"}))["seq"] == high_water
    assert (await feed(md, t, since=start, held=held))[0] == till_before == snapshot_before
    assert (await feed(md, t))[0] == snapshot_before
    assert await lookups(md, t, asked) == prices_before
    assert [(r["itemCode"], r["price"]) for r in prices_before] == [
        ("A", 130.0),
        ("A", 150.0),
        ("A", 150.0),
        ("B", 85.0),
        ("B", 85.0),
        ("B", 80.0),
        *[("GONE", None)] * 3,
    ]
    assert await ChangeLogRepository(db).compact(horizon) == 0  # nothing more to do


async def test_one_of_two_replicas_runs_a_tenants_day(
    md: httpx.AsyncClient, fresh: Tenant, mongo: AsyncMongoClient, stack: Stack
) -> None:
    t = fresh
    db = mongo[stack.db_name("master-data", t.tenant_id)]
    assert_ok(await md.post(f"{t.base}/categories", json=CATEGORY, headers=t.admin), 201)
    assert_ok(await md.post(f"{t.base}/items", json=item("X", 100), headers=t.admin), 201)
    for price in (101, 102, 103):
        assert_ok(await md.put(f"{t.base}/items/X", json=item("X", price), headers=t.admin))
    mongo_a, a, b = replicas(stack, retention_days=30)
    try:
        # Forty days on, every entry is past the retention.
        now = datetime.now(UTC) + timedelta(days=40)
        due = a.due(now)
        ran = await asyncio.gather(a.run(t.tenant_id, due, now), b.run(t.tenant_id, due, now))
        assert sorted(ran) == [False, True]
        runs = await db["master_change_log_compactions"].find({}, {"_id": False}).to_list()
        assert len(runs) == 1 and runs[0]["status"] == "done"
        assert runs[0]["deleted_entries"] == 3  # X's first three entries; its last is kept
        x = await db["master_change_log"].find({"kind": "item", "key": "X"}).to_list()
        assert [e["data"]["unit_price"] for e in x] == [103.0]
        # Done for the day: neither runs it again.
        assert not await a.run(t.tenant_id, due, now)
        assert not await b.run(t.tenant_id, due, now)
    finally:
        await mongo_a.close()
