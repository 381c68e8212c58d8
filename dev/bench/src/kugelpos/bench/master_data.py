"""Master-data service: item lookup by code (the cart's hot path), cache hit and miss.

- `master_data.item_details_hit`: one item's store `details`, read again and again (served
  from the read-through cache after the first read).
- `master_data.item_details_miss`: every request asks for an item nobody read before, so each
  one goes to MongoDB (common item + store price) and fills the cache.
- `master_data.item_by_code_hit`: the common item by code, cached.
- `master_data.sync` (scenario, opt-in: `--only master_data.sync`, 2-3 minutes of seeding): the
  store's data feed for offline tills, see `store_sync`.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Callable
from datetime import UTC, datetime

from pymongo import AsyncMongoClient

from kugelpos.bench.scenarios import BenchContext, scenario
from kugelpos.bench.timing import LoadResult, Operation, run_load

STORE = "S1"
WARMUP = 10
CREATE_CONCURRENCY = 10


def _item(code: str) -> dict:
    return {
        "itemCode": code,
        "description": f"Bench item {code}",
        "unitPrice": 120,
        "unitCost": 60,
        "itemDetails": [],
        "imageUrls": [],
        "categoryCode": "001",
        "taxCode": "01",
    }


async def _tenant(context: BenchContext) -> tuple[str, dict[str, str]]:
    """A fresh tenant set up in master-data; returns (tenant id, admin headers)."""
    account = context.stack.base_url("account")
    password = secrets.token_urlsafe(16)
    wanted = f"MDB{secrets.token_hex(3).upper()}"
    r = await context.client.post(
        f"{account}/accounts/register",
        json={"username": "bench-admin", "password": password, "tenantId": wanted},
    )
    r.raise_for_status()
    tenant_id = r.json()["data"]["tenantId"]
    r = await context.client.post(
        f"{account}/accounts/token",
        data={"username": "bench-admin", "password": password, "client_id": tenant_id},
    )
    r.raise_for_status()
    headers = {"Authorization": f"Bearer {r.json()['access_token']}"}
    r = await context.client.post(
        f"{context.stack.base_url('master-data')}/tenants",
        json={"tenantId": tenant_id},
        headers=headers,
    )
    r.raise_for_status()
    return tenant_id, headers


async def _create_items(
    context: BenchContext, base: str, headers: dict[str, str], codes: list[str]
) -> None:
    gate = asyncio.Semaphore(CREATE_CONCURRENCY)

    async def create(code: str) -> None:
        async with gate:
            r = await context.client.post(f"{base}/items", json=_item(code), headers=headers)
            r.raise_for_status()
            r = await context.client.post(
                f"{base}/stores/{STORE}/items",
                json={"itemCode": code, "storePrice": 100},
                headers=headers,
            )
            r.raise_for_status()

    await asyncio.gather(*(create(code) for code in codes))


@scenario("master-data.item_lookup", services=["account", "master-data"])
async def item_lookup(context: BenchContext) -> list[tuple[str, LoadResult]]:
    tenant_id, admin = await _tenant(context)
    base = f"{context.stack.base_url('master-data')}/tenants/{tenant_id}"
    # Any credential of the tenant may read; the bench reads with the admin's JWT (verified
    # locally, like a terminal's), so the bench needs nothing from commons.
    terminal = admin
    levels = list(context.concurrency_levels)
    miss_codes = {level: [f"MISS-{level}-{n}" for n in range(context.requests)] for level in levels}
    await _create_items(
        context, base, admin, ["HOT", *(code for codes in miss_codes.values() for code in codes)]
    )

    def details(code_of: Callable[[int], str]) -> Operation:
        async def operation(sequence: int) -> bool:
            code = code_of(sequence)
            r = await context.client.get(
                f"{base}/stores/{STORE}/items/{code}/details", headers=terminal
            )
            return r.status_code == 200 and r.json()["data"]["storePrice"] == 100

        return operation

    async def item_by_code(_: int) -> bool:
        r = await context.client.get(f"{base}/items/HOT", headers=terminal)
        return r.status_code == 200

    results: list[tuple[str, LoadResult]] = []
    hot = details(lambda _: "HOT")
    for level in levels:
        await run_load(hot, requests=WARMUP, concurrency=level)
        results.append(
            (
                "master_data.item_details_hit",
                await run_load(hot, requests=context.requests, concurrency=level),
            )
        )
        codes = miss_codes[level]
        miss = details(lambda sequence, codes=codes: codes[sequence])
        results.append(
            (
                "master_data.item_details_miss",
                await run_load(miss, requests=context.requests, concurrency=level),
            )
        )
        await run_load(item_by_code, requests=WARMUP, concurrency=level)
        results.append(
            (
                "master_data.item_by_code_hit",
                await run_load(item_by_code, requests=context.requests, concurrency=level),
            )
        )
    return results


# ---- the store's data feed (issue 27) ---------------------------------------------------------

SYNC_ITEMS = 20_000
SYNC_STORE_PRICES = 2_000  # one item in ten has a price of its own in the store
SYNC_PAGE = 1_000
SYNC_SNAPSHOTS = 3
SEED_BATCH = 500  # the embedded wire server cancels a long single insert


def _seed_item(tenant_id: str, n: int, at: datetime) -> dict:
    return {
        "tenant_id": tenant_id,
        "shard_key": tenant_id,
        "item_code": f"SYNC{n:06d}",
        "description": f"Bench item {n}",
        "description_short": None,
        "description_long": None,
        "unit_price": float(100 + n % 900),
        "unit_cost": 50.0,
        "item_details": [],
        "image_urls": [],
        "category_code": "001",
        "tax_code": "01",
        "is_discount_restricted": False,
        "is_stored_value": False,
        "is_deleted": False,
        "created_at": at,
        "updated_at": None,
        "created_by": "bench",
        "updated_by": None,
    }


async def _seed_catalogue(context: BenchContext, tenant_id: str) -> None:
    """20,000 items (2,000 with this store's price) written as master-data writes them, and
    the change log they would have left (one entry each, after the tax table's), straight
    into the tenant database: the API would take minutes to make them."""
    mongo = AsyncMongoClient(context.stack.mongo_uri_for("master-data"), tz_aware=True)
    try:
        db = mongo[f"{context.stack.db_prefix('master-data')}_{tenant_id}"]
        counter = await db["master_change_counter"].find_one({"_id": "seq"})
        seq = int(counter["seq"]) if counter else 0
        at = datetime.now(UTC)
        items = [_seed_item(tenant_id, n, at) for n in range(SYNC_ITEMS)]
        prices = [
            {
                "tenant_id": tenant_id,
                "shard_key": f"{tenant_id}_{STORE}",
                "store_code": STORE,
                "item_code": items[n]["item_code"],
                "store_price": 95.0,
                "created_at": at,
            }
            for n in range(0, SYNC_ITEMS, SYNC_ITEMS // SYNC_STORE_PRICES)
        ]
        log = [
            {
                "seq": seq + 1 + n,
                "kind": "item",
                "key": item["item_code"],
                "store_code": None,
                "op": "upsert",
                "at": at,
                "data": {k: v for k, v in item.items() if k not in ("tenant_id", "shard_key")},
                "created": True,
            }
            for n, item in enumerate(items)
        ]
        for name, docs in (
            ("master_item_common", items),
            ("master_item_store", prices),
            ("master_change_log", log),
        ):
            for start in range(0, len(docs), SEED_BATCH):
                await db[name].insert_many(docs[start : start + SEED_BATCH])
        await db["master_change_counter"].update_one(
            {"_id": "seq"}, {"$set": {"seq": seq + len(log)}}, upsert=True
        )
    finally:
        await mongo.close()


@scenario("master_data.sync", services=["account", "master-data"], default=False)
async def store_sync(context: BenchContext) -> list[tuple[str, LoadResult]]:
    """- `master_data.sync_snapshot`: a till's full snapshot of a store of 20,000 items (all
      its pages of 1,000), as one figure per snapshot;
    - `master_data.sync_empty_delta`: the delta of a till that is up to date (nothing after
      its cursor), the call a till makes every few seconds.
    Read with the admin's JWT (verified locally); a till's is checked with the terminal
    service first, which is the same for every endpoint and not the feed's cost."""
    tenant_id, admin = await _tenant(context)
    await _seed_catalogue(context, tenant_id)
    url = f"{context.stack.base_url('master-data')}/tenants/{tenant_id}/stores/{STORE}/sync"
    end_cursor: list[str] = []

    async def snapshot(_: int) -> bool:
        params: dict[str, object] = {"limit": SYNC_PAGE}
        items = 0
        while True:
            r = await context.client.get(url, params=params, headers=admin)
            if r.status_code != 200:
                return False
            page = r.json()["data"]
            items += sum(1 for c in page["changes"] if c["kind"] == "item")
            if not page["hasMore"]:
                end_cursor[:] = [page["cursor"]]
                return items == SYNC_ITEMS
            params["since"] = page["cursor"]

    async def empty_delta(_: int) -> bool:
        r = await context.client.get(url, params={"since": end_cursor[0]}, headers=admin)
        return r.status_code == 200 and r.json()["data"]["changes"] == []

    results = [
        (
            "master_data.sync_snapshot",
            await run_load(snapshot, requests=SYNC_SNAPSHOTS, concurrency=1),
        )
    ]
    for level in context.concurrency_levels:
        await run_load(empty_delta, requests=WARMUP, concurrency=level)
        results.append(
            (
                "master_data.sync_empty_delta",
                await run_load(empty_delta, requests=context.requests, concurrency=level),
            )
        )
    return results
