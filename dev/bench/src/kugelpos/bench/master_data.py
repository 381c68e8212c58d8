"""Master-data service: item lookup by code (the cart's hot path), cache hit and miss.

- `master_data.item_details_hit`: one item's store `details`, read again and again (served
  from the read-through cache after the first read).
- `master_data.item_details_miss`: every request asks for an item nobody read before, so each
  one goes to MongoDB (common item + store price) and fills the cache.
- `master_data.item_by_code_hit`: the common item by code, cached.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Callable

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
