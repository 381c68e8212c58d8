"""Stock: how soon a sale shows in stock, and manual updates of one hot item.

- `stock.event_lag`: N terminals sell one item per sale in a closed loop; for each bill, the
  time from the bill's response to the stock history row of that transaction (cart outbox →
  relay → sidecar → stock consumer → commit), seen by one watcher polling the item's history
  (`lag.py`), p50/p95 per level.
- `stock.manual_updates`: 10 clients (the concurrency levels) `PUT .../update` on the same
  item; latency and updates per second (every update is one transaction on one row).
"""

from __future__ import annotations

import time
from datetime import timedelta

from kugelpos.bench.lag import Tills, Watcher, quick_sale
from kugelpos.bench.scenarios import BenchContext, scenario
from kugelpos.bench.timing import LoadResult, run_load
from kugelpos.bench.visible import stock_probe
from kugelpos.common.auth.tokens import TokenCodec
from kugelpos.devstack.pos import Register, open_shop

SALE_SERVICES = ("account", "terminal", "master-data", "cart", "stock")


async def _lag_level(context: BenchContext, urls: dict[str, str], concurrency: int) -> LoadResult:
    shop = await open_shop(context.client, urls, terminals=concurrency)
    registers = [Register(context.client, shop, till) for till in shop.tills]
    item = next(i.code for i in shop.items if not i.restricted)
    probe = await stock_probe(context.client, shop, item)
    tills = Tills(registers, lambda register: quick_sale(register, [item]))
    await tills.run(concurrency, [Watcher(probe)])  # warm-up
    sales = max(concurrency * 3, context.requests // 10)
    watcher = Watcher(probe)
    run = await tills.run(sales, [watcher])
    errors = run.failed + watcher.timeouts
    return LoadResult(sales, errors, concurrency, run.wall_seconds, tuple(watcher.lags))


@scenario("stock.event_lag", services=SALE_SERVICES)
async def event_lag(context: BenchContext) -> list[tuple[str, LoadResult]]:
    urls = {name: context.stack.url(name) for name in SALE_SERVICES}
    return [
        ("stock.event_lag", await _lag_level(context, urls, concurrency))
        for concurrency in context.concurrency_levels
    ]


@scenario("stock.manual_updates", services=("stock",))
async def manual_updates(context: BenchContext) -> list[tuple[str, LoadResult]]:
    stack = context.stack
    tenant_id = "TBENCH" + str(int(time.time()))
    token = TokenCodec(stack.secret_key).issue_user_token(
        username="bench",
        tenant_id=tenant_id,
        is_superuser=True,
        roles=["admin"],
        lifetime=timedelta(hours=1),
    )
    headers = {"Authorization": f"Bearer {token}"}
    base = stack.url("stock")
    r = await context.client.post(
        f"{base}/api/v1/tenants", json={"tenantId": tenant_id}, headers=headers
    )
    r.raise_for_status()
    results: list[tuple[str, LoadResult]] = []
    for concurrency in context.concurrency_levels:
        url = f"{base}/api/v1/tenants/{tenant_id}/stores/S{concurrency}/stock/HOT/update"

        async def update(_: int, url: str = url) -> bool:
            response = await context.client.put(
                url, json={"quantityChange": 1, "updateType": "purchase"}, headers=headers
            )
            return response.status_code == 200

        result = await run_load(update, requests=context.requests, concurrency=concurrency)
        results.append(("stock.manual_updates", result))
    return results
