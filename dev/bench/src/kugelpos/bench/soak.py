"""System soak: ten tills selling without a pause for ten minutes, then every sale counted.

Opt-in (`--only system.soak`; `KUGELPOS_BENCH_SOAK_SECONDS`, default 600): the store day's
load (`store_day.py`: create → 5 add-items → subtotal → pay cash → bill, every service
running) held for a fixed time at the highest concurrency level. What it reports:

- `system.soak.checkout` / `.add_item` / `.bill`: latencies; `errors` counts every refused
  step, each kept by step and answer in `errors_by_kind` (the goal is zero);
- `system.soak.lag_journal` / `_report` / `_stock`: bill response → visible, as the store day;
- `system.soak.exactly_once`: once the consumers have drained, each consumer counts the sales
  exactly once: the journal holds one sale entry per bill, the store's flash report counts
  every bill once, and every sold item's stock went down by exactly the bills sold (each sale
  sells one of each). `errors` = consumers whose count differs (details in
  `errors_by_kind`); the latency is how long after the last bill the counts were all exact.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections import Counter
from dataclasses import replace
from typing import Any

import httpx

from kugelpos.bench.checkout import timed_checkout
from kugelpos.bench.lag import Tills, Watcher
from kugelpos.bench.scenarios import BenchContext, scenario
from kugelpos.bench.store_day import ITEMS_PER_SALE, LAG_GOAL, SERVICES
from kugelpos.bench.timing import LoadResult
from kugelpos.bench.visible import journal_probe, report_probe, stock_probe
from kugelpos.devstack.pos import Register, Shop, open_shop

DEFAULT_SECONDS = 600.0
DRAIN_SECONDS = 120.0


def soak_seconds() -> float:
    return float(os.environ.get("KUGELPOS_BENCH_SOAK_SECONDS", DEFAULT_SECONDS))


async def _counts(
    client: httpx.AsyncClient, shop: Shop, items: list[str], business_date: str
) -> dict[str, Any]:
    """What each consumer holds for the store now."""
    base = f"/api/v1/tenants/{shop.tenant_id}/stores/{shop.store_code}"
    journal = await client.get(
        shop.url("journal", f"{base}/journals"),
        params={"transaction_types": 101, "limit": 1},
        headers=shop.admin,
    )
    counts: dict[str, Any] = {"journal": None, "report": None, "stock": {}}
    if journal.status_code == 200:
        counts["journal"] = journal.json()["metadata"]["total"]
    report = await client.get(
        shop.url("report", f"{base}/reports"),
        params={"report_scope": "flash", "report_type": "sales", "business_date": business_date},
        headers=shop.admin,
    )
    if report.status_code == 200:
        counts["report"] = report.json()["data"]["salesGross"]["count"]
    for item in items:
        stock = await client.get(shop.url("stock", f"{base}/stock/{item}"), headers=shop.admin)
        if stock.status_code == 200:
            counts["stock"][item] = stock.json()["data"]["currentQuantity"]
    return counts


def _differences(counts: dict[str, Any], billed: int, items: list[str]) -> list[str]:
    wrong = []
    if counts["journal"] != billed:
        wrong.append(f"journal holds {counts['journal']} sales, {billed} billed")
    if counts["report"] != billed:
        wrong.append(f"report counts {counts['report']} sales, {billed} billed")
    off = {i: q for i, q in counts["stock"].items() if q != -billed}
    if off or len(counts["stock"]) != len(items):
        wrong.append(f"stock {counts['stock']}, expected {-billed} each")
    return wrong


async def _exactly_once(
    client: httpx.AsyncClient, shop: Shop, items: list[str], billed: int, business_date: str
) -> tuple[list[str], float]:
    """Wait for the consumers to drain, then compare; the differences and the seconds waited."""
    started = time.perf_counter()
    while True:
        counts = await _counts(client, shop, items, business_date)
        wrong = _differences(counts, billed, items)
        waited = time.perf_counter() - started
        if not wrong or waited > DRAIN_SECONDS:
            return wrong, waited
        await asyncio.sleep(1.0)


@scenario("system.soak", services=SERVICES, default=False)
async def soak(context: BenchContext) -> list[tuple[str, LoadResult]]:
    concurrency = max(context.concurrency_levels)
    urls = {name: context.stack.url(name) for name in SERVICES}
    shop = await open_shop(context.client, urls, terminals=concurrency)
    registers = [Register(context.client, shop, till) for till in shop.tills]
    items = [item.code for item in shop.items if not item.restricted][:ITEMS_PER_SALE]
    adds: list[float] = []
    bills: list[float] = []
    refused: Counter[str] = Counter()
    tills = Tills(
        registers,
        lambda register: timed_checkout(register, items, adds, bills=bills, refused=refused),
    )
    probes = {
        "lag_journal": await journal_probe(context.client, shop),
        "lag_report": report_probe(context.client, shop),
        "lag_stock": await stock_probe(context.client, shop, items[-1]),
    }
    warm = await tills.run(concurrency, [Watcher(probe) for probe in probes.values()])
    if tills.billed == 0:
        raise RuntimeError(f"no warm-up sale went through ({dict(refused)})")
    adds.clear()
    bills.clear()
    watchers = {name: Watcher(probe) for name, probe in probes.items()}
    run = await tills.run(10**9, watchers.values(), seconds=soak_seconds())
    date = tills.last_business_date
    wrong, drained = await _exactly_once(context.client, shop, items, tills.billed, date)
    failed = run.failed + warm.failed
    kinds = dict(refused)
    results: list[tuple[str, LoadResult]] = [
        ("checkout", LoadResult(run.sales, failed, concurrency, run.wall_seconds, run.sale_ms)),
        ("add_item", LoadResult(len(adds), failed, concurrency, run.wall_seconds, tuple(adds))),
        ("bill", LoadResult(len(bills), failed, concurrency, run.wall_seconds, tuple(bills))),
    ]
    for name, watcher in watchers.items():
        errors = run.failed + watcher.timeouts
        lags = tuple(watcher.lags)
        results.append(
            (
                name,
                LoadResult(run.sales, errors, concurrency, run.wall_seconds, lags, goals=LAG_GOAL),
            )
        )
    check = LoadResult(tills.billed, len(wrong), concurrency, run.wall_seconds, (drained * 1000,))
    results.append(("exactly_once", check))
    return [
        (
            f"system.soak.{name}",
            replace(result, details={"errors_by_kind": kinds if name != "exactly_once" else wrong}),
        )
        for name, result in results
    ]
