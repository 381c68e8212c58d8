"""Journal: how soon a sale is searchable, how fast events are taken in, how fast search is.

- `journal.event_lag`: N terminals sell in a closed loop (create → 2 items → pay → bill);
  one watcher searches the journal for every receipt not seen yet (`lag.py`, every 20 ms).
  Latency = bill response → receipt searchable (cart outbox → sidecar → journal → search).
  Goal: p95 ≤ 500 ms.
- `journal.ingest`: events published straight to the sidecar (as the relays do) in one burst;
  latency per event = publish → its entry is in the journal; `throughput_rps` = events/s
  from the first publish to the last entry.
- `journal.search`: searches of several shapes over a store holding 50,000 entries (seeded in
  the journal's database beforehand), from 1 and 10 clients.
"""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from datetime import UTC, datetime, timedelta

from pymongo import AsyncMongoClient

from kugelpos.bench.lag import Tills, Watcher, quick_sale
from kugelpos.bench.scenarios import BenchContext, scenario
from kugelpos.bench.timing import LoadResult, run_load
from kugelpos.bench.visible import journal_probe
from kugelpos.common.auth.tokens import TokenCodec
from kugelpos.devstack.pos import Register, open_shop

SALE_SERVICES = ("account", "terminal", "master-data", "cart", "journal")
# The issue's size. (It once had to be 2,000: the embedded MongoDB's unique checks read the
# whole collection on every insert; the launcher's engines answer them from an index.)
SEARCH_ENTRIES = 50_000
SEED_BATCH = 500
INGEST_EVENTS = 1_500
ARRIVAL_MARGIN = timedelta(seconds=5)


def _token(context: BenchContext, tenant_id: str) -> dict[str, str]:
    token = TokenCodec(context.stack.secret_key).issue_user_token(
        username="bench",
        tenant_id=tenant_id,
        is_superuser=False,
        roles=["admin"],
        lifetime=timedelta(hours=1),
    )
    return {"Authorization": f"Bearer {token}"}


def _journals_url(context: BenchContext, tenant_id: str, store_code: str) -> str:
    base = context.stack.url("journal")
    return f"{base}/api/v1/tenants/{tenant_id}/stores/{store_code}/journals"


async def _lag_level(context: BenchContext, concurrency: int) -> LoadResult:
    urls = {name: context.stack.url(name) for name in SALE_SERVICES}
    shop = await open_shop(context.client, urls, terminals=concurrency)
    registers = [Register(context.client, shop, till) for till in shop.tills]
    items = [item.code for item in shop.items if not item.restricted][:2]
    sales = max(concurrency * 3, context.requests // 4)
    watcher = Watcher(await journal_probe(context.client, shop))
    run = await Tills(registers, lambda register: quick_sale(register, items)).run(sales, [watcher])
    errors = run.failed + watcher.timeouts
    return LoadResult(sales, errors, concurrency, run.wall_seconds, tuple(watcher.lags))


@scenario("journal.event_lag", services=SALE_SERVICES)
async def event_lag(context: BenchContext) -> list[tuple[str, LoadResult]]:
    return [
        ("journal.event_lag", await _lag_level(context, level))
        for level in context.concurrency_levels
    ]


def _tranlog(tenant_id: str, store: str, n: int) -> dict:
    return {
        "event_id": str(uuid.uuid4()),
        "tenant_id": tenant_id,
        "store_code": store,
        "store_name": "Bench store",
        "terminal_no": 1 + n % 10,
        "transaction_no": n,
        "transaction_type": 101,
        "business_date": "20261201",
        "open_counter": 1,
        "business_counter": 1,
        "generate_date_time": f"2026-12-01T10:00:00.{n:06d}+09:00",
        "receipt_no": n,
        "staff": {"id": "S001", "name": "Taro"},
        "sales": {"total_amount_with_tax": 1100.0, "total_quantity": 1, "is_cancelled": False},
        "line_items": [],
        "payments": [],
        "receipt_text": "<receipt/>",
        "journal_text": f"bench sale {n}",
    }


@scenario("journal.ingest", services=("journal",))
async def ingest(context: BenchContext) -> list[tuple[str, LoadResult]]:
    tenant_id, store = f"BI{uuid.uuid4().hex[:6].upper()}", "S1"
    headers = _token(context, tenant_id)
    base = context.stack.url("journal")
    r = await context.client.post(
        f"{base}/api/v1/tenants", json={"tenantId": tenant_id}, headers=headers
    )
    r.raise_for_status()
    publish = f"{context.stack.sidecar_url}/v1.0/publish/pubsub/tranlog_report"
    # As the cart's relay does: with the cart's Dapr API token (only the cart may publish sales).
    as_cart = context.stack.dapr_headers("cart")
    events = [_tranlog(tenant_id, store, n) for n in range(1, INGEST_EVENTS + 1)]
    mongo = AsyncMongoClient(context.stack.mongo_uri_for("journal"), tz_aware=True)
    journal = mongo[f"db_journal_{tenant_id}"]["journal"]
    published_at: dict[int, float] = {}
    errors = 0
    started = time.perf_counter()

    async def send(event: dict) -> None:
        nonlocal errors
        published_at[event["receipt_no"]] = time.perf_counter()
        response = await context.client.post(publish, json=event, headers=as_cart)
        errors += response.status_code != 204

    await asyncio.gather(*(send(event) for event in events))
    # Each entry's arrival is seen by polling what was written since the last poll (less a
    # margin for transactions that committed out of their `created_at` order). A `$nin` of
    # the receipts seen grew past SQLite's expression depth (1,000) on the embedded engine.
    arrived: dict[int, float] = {}
    since: datetime | None = None
    deadline = time.perf_counter() + 300
    while len(arrived) < len(events) and time.perf_counter() < deadline:
        now = time.perf_counter()
        query = {} if since is None else {"created_at": {"$gte": since - ARRIVAL_MARGIN}}
        async for doc in journal.find(query, {"receipt_no": 1, "created_at": 1, "_id": 0}):
            arrived.setdefault(doc["receipt_no"], now)
            since = doc["created_at"] if since is None else max(since, doc["created_at"])
        await asyncio.sleep(0.05)
    wall = (max(arrived.values()) if arrived else time.perf_counter()) - started
    await mongo.close()
    lags = tuple((arrived[n] - published_at[n]) * 1000 for n in arrived)
    errors += len(events) - len(arrived)
    return [("journal.ingest", LoadResult(len(events), errors, 1, wall, lags))]


def _seed_entries(tenant_id: str, store: str, count: int) -> list[dict]:
    rng = random.Random(7)
    day0 = datetime(2026, 11, 1, 9, tzinfo=UTC)
    docs = []
    for n in range(count):
        per_day = max(count // 25, 1)  # 25 business days
        day = n // per_day
        moment = day0 + timedelta(days=day, seconds=(n % per_day) * 15)
        kind = rng.choices([101, 102, 201, -101, 401, 402], weights=[80, 5, 3, 4, 4, 4])[0]
        docs.append(
            {
                "tenant_id": tenant_id,
                "store_code": store,
                "terminal_no": 1 + n % 10,
                "transaction_no": n,
                "transaction_type": kind,
                "business_date": moment.strftime("%Y%m%d"),
                "open_counter": 1,
                "business_counter": 1,
                "receipt_no": n,
                "amount": float(rng.randrange(100, 20_000)),
                "quantity": rng.randrange(1, 9),
                "staff_id": f"S{rng.randrange(1, 20):03d}",
                "user_id": None,
                "generate_date_time": moment.isoformat(),
                "journal_text": f"receipt {n} item {rng.choice(['tea', 'coffee', 'bread'])}",
                "receipt_text": "<receipt/>",
                "shard_key": f"{tenant_id}_{store}_{1 + n % 10}_{moment:%Y%m%d}",
                "created_at": datetime.now(UTC),
            }
        )
    return docs


@scenario("journal.search", services=("journal",))
async def search(context: BenchContext) -> list[tuple[str, LoadResult]]:
    tenant_id, store = f"BS{uuid.uuid4().hex[:6].upper()}", "S1"
    headers = _token(context, tenant_id)
    base = context.stack.url("journal")
    r = await context.client.post(
        f"{base}/api/v1/tenants", json={"tenantId": tenant_id}, headers=headers
    )
    r.raise_for_status()
    mongo = AsyncMongoClient(context.stack.mongo_uri_for("journal"), tz_aware=True)
    journal = mongo[f"db_journal_{tenant_id}"]["journal"]
    docs = _seed_entries(tenant_id, store, SEARCH_ENTRIES)
    # Small batches: the embedded wire server cancels a long single insert.
    for start in range(0, len(docs), SEED_BATCH):
        await journal.insert_many(docs[start : start + SEED_BATCH])
    await mongo.close()
    url = _journals_url(context, tenant_id, store)
    shapes = [
        {"terminals": 3, "business_date_from": "20261110", "business_date_to": "20261112"},
        {"transaction_types": [102, 201], "limit": 50},
        {"receipt_no_from": 1_000, "receipt_no_to": 1_050},
        {"keywords": "coffee", "business_date_from": "20261120", "business_date_to": "20261120"},
        {"terminals": [1, 2], "page": 20, "limit": 100},
    ]

    async def one(sequence: int) -> bool:
        response = await context.client.get(
            url, params=shapes[sequence % len(shapes)], headers=headers
        )
        return response.status_code == 200

    results = []
    for level in context.concurrency_levels:
        result = await run_load(one, requests=context.requests, concurrency=level)
        results.append(("journal.search", result))
    return results
