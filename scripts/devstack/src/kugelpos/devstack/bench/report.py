"""Report: how fast reports answer over a big store day, how soon a sale shows in a report.

- `report.latency.<n>`: a store day of n = 1,000 / 5,000 / 20,000 transactions (10 terminals,
  sales, returns, voids, split payments, discounts over the whole day), then store-wide and
  terminal reports of every type (each type both ways, in turn), flash, from 1 and 10 clients.
  Seeding: all but the last `APPLIED` logs are merged by the service's pure `Aggregator` and
  added to the aggregates in bulk (the same `contribute` and layout as the consumer; the
  embedded MongoDB applies a few transactions/s on a 2-core machine and its inserts slow down
  as a collection grows, too slow to store 26,000 logs within a bench run), then the last
  `APPLIED` go through the report's own consumer `apply` (the exact path of an event,
  aggregates included), into documents as big as the end of that day makes them: its rate is
  printed.
- `report.event_lag`: N terminals sell in a closed loop through the cart; one watcher asks
  for the store's flash sales report (`lag.py`, every 20 ms) until it counts each sale
  (`visible.py`). Latency = bill response → visible in the flash report.
"""

from __future__ import annotations

import asyncio
import random
import sys
import time
import uuid
from datetime import timedelta
from zoneinfo import ZoneInfo

from pymongo import AsyncMongoClient

from kugelpos.common.auth.tokens import TokenCodec
from kugelpos.common.events.logs import TOPIC_TRANLOG, TransactionLog
from kugelpos.common.events.raw_logs import raw_document
from kugelpos.common.infrastructure import build_infrastructure
from kugelpos.devstack.bench.lag import Tills, Watcher, quick_sale
from kugelpos.devstack.bench.scenarios import BenchContext, scenario
from kugelpos.devstack.bench.timing import LoadResult, run_load
from kugelpos.devstack.bench.visible import report_probe
from kugelpos.devstack.pos import Register, open_shop

SALE_SERVICES = ("account", "terminal", "master-data", "cart", "report")
DAY_SIZES = (1_000, 5_000, 20_000)
SEED_CONCURRENCY = 1
APPLIED = 40
TYPES = ("sales", "category", "item", "payment", "promotion", "hourly")


def _token(context: BenchContext, tenant_id: str) -> dict[str, str]:
    token = TokenCodec(context.stack.secret_key).issue_user_token(
        username="bench",
        tenant_id=tenant_id,
        is_superuser=False,
        roles=["admin"],
        lifetime=timedelta(hours=1),
    )
    return {"Authorization": f"Bearer {token}"}


def _day(tenant_id: str, count: int) -> list[dict]:
    from kugelpos.report import samples  # the service package is installed with the stack

    rng = random.Random(count)
    logs = []
    for n in range(1, count + 1):
        terminal = 1 + n % 10
        kind = rng.choices([101, 102, 201, 202], weights=[88, 6, 5, 1])[0]
        lines = [
            samples.line(
                i,
                f"49{rng.randrange(100):03d}",
                f"C{rng.randrange(8)}",
                float(rng.randrange(100, 3000)),
                rng.randrange(1, 4),
                discounts=[samples.discount(50.0, "P1", "bundle")] if rng.random() < 0.1 else [],
            )
            for i in range(1, rng.randrange(1, 5) + 1)
        ]
        total = sum(line["amount"] for line in lines)
        tax = round(total / 11)
        payments = (
            [samples.payment("01", total)]
            if rng.random() < 0.7
            else [samples.payment("11", total - 500), samples.payment("01", 500.0)]
        )
        seconds = 9 * 3600 + (n * 12 * 3600) // count
        logs.append(
            samples.tran(
                tenant_id,
                n // 10 + 1,
                type_=kind,
                with_tax=total,
                discount_total=sum(
                    d["discount_amount"] for line in lines for d in line["discounts"]
                ),
                quantity=sum(line["quantity"] for line in lines),
                taxes=[samples.tax("01", float(tax), total - tax, 1)],
                payments=payments,
                lines=lines,
                terminal=terminal,
                time=f"2026-12-01T{seconds // 3600:02d}:{seconds // 60 % 60:02d}:"
                f"{seconds % 60:02d}+09:00",
            )
        )
    return logs


async def _seed(context: BenchContext, tenant_id: str, logs: list[dict]) -> float:
    """Apply every log through the report's consumer (inbox + raw log + aggregates in one
    transaction), as a delivery would; returns the logs applied per second."""
    from kugelpos.report.config import ReportSettings
    from kugelpos.report.events import ReportEvents

    settings = ReportSettings(
        environment="development",
        mongodb_uri=context.stack.mongo_uri_for("report"),
        secret_key=context.stack.secret_key,
    )
    infra = build_infrastructure(settings, settings.db_name_prefix)
    events = ReportEvents(settings.timezone)
    await events.consumer.start(infra)
    queue = iter(logs)
    started = time.perf_counter()

    async def worker() -> None:
        for raw in queue:
            log = TransactionLog.model_validate(raw)
            await events.consumer.apply(TOPIC_TRANLOG, log, event_id=raw["event_id"])

    try:
        async with asyncio.TaskGroup() as group:
            for _ in range(SEED_CONCURRENCY):
                group.create_task(worker())
    finally:
        await infra.close()
    return len(logs) / (time.perf_counter() - started)


async def _aggregate_rest(context: BenchContext, tenant_id: str, logs: list[dict]) -> None:
    """Most of the day straight into the aggregates, merged by the service's own pure
    `Aggregator` (the same `contribute` the consumer and the rebuild use). Reports never read
    raw logs, so none are stored: the embedded MongoDB's inserts slow down as a collection
    grows (10,000 documents took minutes), too slow for a 20,000-transaction day."""
    from kugelpos.report.aggregates import Aggregator, add_aggregates
    from kugelpos.report.config import ReportSettings

    merged = Aggregator(ZoneInfo(ReportSettings(environment="development").timezone))
    for raw in logs:
        merged.add(TOPIC_TRANLOG, raw_document(TransactionLog.model_validate(raw), actor="report"))
    mongo = AsyncMongoClient(context.stack.mongo_uri_for("report"), tz_aware=True)
    try:
        await add_aggregates(mongo[f"db_report_{tenant_id}"], tenant_id, merged)
    finally:
        await mongo.close()


@scenario("report.latency", services=("report",))
async def latency(context: BenchContext) -> list[tuple[str, LoadResult]]:
    results = []
    for size in DAY_SIZES:
        tenant_id = f"BR{uuid.uuid4().hex[:6].upper()}"
        headers = _token(context, tenant_id)
        base = context.stack.url("report")
        r = await context.client.post(
            f"{base}/api/v1/tenants", json={"tenantId": tenant_id}, headers=headers
        )
        r.raise_for_status()
        logs = _day(tenant_id, size)
        await _aggregate_rest(context, tenant_id, logs[:-APPLIED])
        rate = await _seed(context, tenant_id, logs[-APPLIED:])
        print(
            f"report.latency: {size} transactions; apply path {rate:.1f} logs/s",
            file=sys.stderr,
            flush=True,
        )
        store = f"{base}/api/v1/tenants/{tenant_id}/stores/S1"

        async def one(sequence: int, store: str = store, headers: dict = headers) -> bool:
            report_type = TYPES[sequence % len(TYPES)]
            # every type store-wide and for one terminal, one round of types each in turn
            store_wide = (sequence // len(TYPES)) % 2 == 1
            path = f"{store}/reports" if store_wide else f"{store}/terminals/3/reports"
            params = {"report_scope": "flash", "report_type": report_type}
            params["business_date"] = "20261201"
            response = await context.client.get(path, params=params, headers=headers)
            return response.status_code == 200

        for level in context.concurrency_levels:
            result = await run_load(one, requests=context.requests, concurrency=level)
            results.append((f"report.latency.{size}", result))
    return results


async def _lag_level(context: BenchContext, concurrency: int) -> LoadResult:
    urls = {name: context.stack.url(name) for name in SALE_SERVICES}
    shop = await open_shop(context.client, urls, terminals=concurrency)
    registers = [Register(context.client, shop, till) for till in shop.tills]
    items = [item.code for item in shop.items if not item.restricted][:2]
    sales = max(concurrency * 3, context.requests // 4)
    watcher = Watcher(report_probe(context.client, shop))
    run = await Tills(registers, lambda register: quick_sale(register, items)).run(sales, [watcher])
    errors = run.failed + watcher.timeouts
    return LoadResult(sales, errors, concurrency, run.wall_seconds, tuple(watcher.lags))


@scenario("report.event_lag", services=SALE_SERVICES)
async def event_lag(context: BenchContext) -> list[tuple[str, LoadResult]]:
    return [("report.event_lag", await _lag_level(context, level)) for level in (1, 10)]
