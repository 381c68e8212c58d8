"""System: a store day at N terminals with every service running, read against a floor.

The per-service scenarios each load one service; a till's day loads all seven at once (cart,
its sidecar and outbox relay, and the journal, report and stock consumers taking each sale)
on the same two cores. Per concurrency level (the headline is 10 terminals):

- `system.floor`: the bare FastAPI + one Redis round trip app (`floor_app.py`), loaded like
  add-item (same client, same concurrency, closed loop), just before the tills start;
- `system.add_item`, `system.bill`, `system.checkout`: a new store's terminals each selling
  create cart → 5 add-items → subtotal → pay cash → bill in a closed loop (after one
  warm-up sale per terminal that every consumer has taken);
- `system.lag_journal`, `system.lag_report`, `system.lag_stock`: bill response → the sale is
  searchable in the journal / counted by the store's flash report / in the stock history
  (one watcher per consumer, see `lag.py` and `visible.py`);
- `system.checkout` also carries `cpu_ms_per_sale`: the CPU time each process (each service,
  each embedded MongoDB wire server, the sidecar, Redis, and the bench itself) spent over the
  timed sales, per billed sale (`cpu.py`), and the same added up by kind, so the services' own
  cost shows apart from the local stand-ins'. The window ends when every watcher has seen the
  last sale, so the consumers' work on the sales is in it, and so are the watchers' polls
  (one request per watcher every 20 ms) on journal, report and stock.

Each figure carries `ratio_to_floor` and, where the issue sets one, its `goal` and `met`.

`system.store_day_replicas` (opt-in, issue 29): the same day on a stack running two replicas
of every service, each behind a sidecar of its own, reached through the stack's round-robin
front; its figures are named `system.replicas.<operation>`. On a two-core machine it shows the
cost of twice the processes, not a gain (docs/operations.md, Capacity).
"""

from __future__ import annotations

import os
from dataclasses import replace

from kugelpos.bench import cpu
from kugelpos.bench.checkout import timed_checkout
from kugelpos.bench.floor_app import serve_floor
from kugelpos.bench.lag import Tills, Watcher
from kugelpos.bench.scenarios import BenchContext, scenario
from kugelpos.bench.timing import Goal, LoadResult, run_load
from kugelpos.bench.visible import journal_probe, report_probe, stock_probe
from kugelpos.devstack.pos import Register, open_shop

SERVICES = ("account", "terminal", "master-data", "cart", "journal", "report", "stock")
ITEMS_PER_SALE = 5
LAG_GOAL = (Goal(95, ms=500),)
GOALS: dict[str, tuple[Goal, ...]] = {
    "add_item": (Goal(50, times_floor=3), Goal(95, ms=20)),
    "checkout": (Goal(95, ms=150),),
    "lag_journal": LAG_GOAL,
    "lag_report": LAG_GOAL,
    "lag_stock": LAG_GOAL,
}


async def _floor(context: BenchContext, url: str, requests: int, concurrency: int) -> LoadResult:
    body = [{"itemCode": "4901", "quantity": 1}]

    async def post(_: int) -> bool:
        return (await context.client.post(url, json=body)).status_code == 200

    # Warm the pool's connections first, as the tills' warm-up sales do theirs.
    await run_load(post, requests=concurrency * 2, concurrency=concurrency)
    return await run_load(post, requests=requests, concurrency=concurrency)


async def _level(context: BenchContext, floor_url: str, concurrency: int) -> dict[str, LoadResult]:
    urls = {name: context.stack.front_url(name) for name in SERVICES}
    shop = await open_shop(context.client, urls, terminals=concurrency)
    registers = [Register(context.client, shop, till) for till in shop.tills]
    items = [item.code for item in shop.items if not item.restricted][:ITEMS_PER_SALE]
    sales = max(concurrency * 3, context.requests // 4)
    adds: list[float] = []
    bills: list[float] = []
    tills = Tills(registers, lambda register: timed_checkout(register, items, adds, bills=bills))
    probes = {
        "lag_journal": await journal_probe(context.client, shop),
        "lag_report": report_probe(context.client, shop),
        "lag_stock": await stock_probe(context.client, shop, items[-1]),
    }
    floor = await _floor(context, floor_url, sales * ITEMS_PER_SALE, concurrency)
    await tills.run(concurrency, [Watcher(probe) for probe in probes.values()])  # warm-up
    adds.clear()
    bills.clear()
    watchers = {name: Watcher(probe) for name, probe in probes.items()}
    pids = context.stack.pids() | {cpu.LOAD_GENERATOR: os.getpid()}
    before = cpu.sample(pids)
    run = await tills.run(sales, watchers.values())
    after = cpu.sample(pids)
    used = {"cpu_ms_per_sale": cpu.cpu_figures(before, after, run.sales - run.failed)}
    results = {
        "floor": floor,
        "add_item": LoadResult(len(adds), run.failed, concurrency, run.wall_seconds, tuple(adds)),
        "bill": LoadResult(len(bills), run.failed, concurrency, run.wall_seconds, tuple(bills)),
        "checkout": LoadResult(
            sales, run.failed, concurrency, run.wall_seconds, run.sale_ms, details=used
        ),
    }
    for name, watcher in watchers.items():
        # A sale that failed has no lag: counted with the ones never seen.
        errors = run.failed + watcher.timeouts
        lags = tuple(watcher.lags)
        results[name] = LoadResult(sales, errors, concurrency, run.wall_seconds, lags)
    return results


@scenario("system.store_day", services=SERVICES)
async def store_day(context: BenchContext) -> list[tuple[str, LoadResult]]:
    figures: list[tuple[str, LoadResult]] = []
    async with serve_floor(context.stack, context.client) as floor_url:
        for concurrency in context.concurrency_levels:
            results = await _level(context, floor_url, concurrency)
            floor = results["floor"]
            for name, result in results.items():
                if name != "floor":
                    result = replace(result, floor=floor, goals=GOALS.get(name, ()))
                figures.append((f"system.{name}", result))
    return figures


@scenario("system.store_day_replicas", services=SERVICES, default=False, replicas=2)
async def store_day_replicas(context: BenchContext) -> list[tuple[str, LoadResult]]:
    figures = await store_day(context)
    return [(name.replace("system.", "system.replicas.", 1), result) for name, result in figures]
