"""Inventory (issue 28): a physical count of a large store posted, and batch adjustments.

- `stock.count_post`: a store holding `COUNT_ITEMS` items (taken in by receipts of
  `BATCH_LINES` lines), a whole-store count opened, every item entered in PUTs of
  `BATCH_LINES` lines (half of the items counted one short, so the post writes
  `COUNT_ITEMS / 2` variance rows in its one transaction), then the post timed; `RUNS`
  counts one after another (a store has one open count at a time). The entry PUTs are
  reported beside it (`stock.count_lines`).
- `stock.batch_adjustment`: `RUNS` batch adjustments of `BATCH_LINES` lines each (one
  transaction, a history row per line) at one store, each timed.
- `stock.count_post_sale_lag`: a sale's stock lag (as `stock.event_lag` measures it) with no
  count posting (`stock.sale_lag_idle`), then sales one after another for as long as a count
  of `COUNT_ITEMS` items posts (`stock.sale_lag_during_count_post`, with the post's time).

Everything over HTTP with a tenant admin's token, one client (concurrency 1): these are the
times of one back-office action, not a load. The counted items are first created in
master-data (stock refuses items its item master does not hold on these requests). Opt-in
(named in `--only`, not in `make bench`): seeding 5,000 items takes minutes.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from functools import partial

import httpx

from kugelpos.bench.lag import Probe, Tills, Watcher, quick_sale
from kugelpos.bench.scenarios import BenchContext, scenario
from kugelpos.bench.timing import LoadResult
from kugelpos.bench.visible import stock_probe
from kugelpos.common.auth.tokens import TokenCodec
from kugelpos.devstack.pos import Register, open_shop

# The issue's figure is 5,000; KUGELPOS_BENCH_COUNT_ITEMS sizes a smaller store.
COUNT_ITEMS = int(os.environ.get("KUGELPOS_BENCH_COUNT_ITEMS", "5000"))
BATCH_LINES = 1_000  # the stock service's line limit per request
RUNS = 3
# A post of 5,000 lines in one transaction may take longer than the runner's 30 s default.
SLOW_SECONDS = 600.0
CREATE_CONCURRENCY = 8


def item_codes(prefix: str, n: int) -> list[str]:
    return [f"{prefix}{i:05d}" for i in range(n)]


def batches(codes: Sequence[str], size: int = BATCH_LINES) -> list[Sequence[str]]:
    return [codes[i : i + size] for i in range(0, len(codes), size)]


def timed(
    latencies_ms: Sequence[float], errors: int, wall_seconds: float, **details: object
) -> LoadResult:
    """One figure of `len(latencies_ms) + errors` timed actions at concurrency 1."""
    return LoadResult(
        len(latencies_ms) + errors,
        errors,
        1,
        wall_seconds,
        tuple(latencies_ms),
        details=dict(details) or None,
    )


@dataclass(frozen=True)
class Back:
    """A tenant's back office at stock (and its item master at master-data) over HTTP, with
    an admin's bearer header."""

    client: httpx.AsyncClient
    base: str  # stock's root URL
    tenant_id: str
    headers: dict[str, str]
    md_base: str  # master-data's root URL

    @classmethod
    async def new_tenant(cls, context: BenchContext, prefix: str) -> Back:
        """A tenant set up at stock and master-data, with a token minted as account issues
        them."""
        tenant_id = prefix + str(int(time.time()))
        token = TokenCodec(context.stack.secret_key).issue_user_token(
            username="bench",
            tenant_id=tenant_id,
            is_superuser=True,
            roles=["admin"],
            lifetime=timedelta(hours=2),
        )
        back = cls(
            context.client,
            context.stack.url("stock"),
            tenant_id,
            {"Authorization": f"Bearer {token}"},
            context.stack.url("master-data"),
        )
        for root in (back.base, back.md_base):
            r = await back.call("POST", f"{root}/api/v1/tenants", {"tenantId": tenant_id})
            r.raise_for_status()
        return back

    def stock(self, store: str, path: str) -> str:
        return f"{self.base}/api/v1/tenants/{self.tenant_id}/stores/{store}/stock{path}"

    async def call(self, method: str, url: str, body: object = None) -> httpx.Response:
        return await self.client.request(
            method, url, json=body, headers=self.headers, timeout=SLOW_SECONDS
        )


async def create_items(back: Back, codes: Sequence[str]) -> None:
    """The codes made items of the tenant's master-data (a few at a time; an existing one is
    left as it is)."""
    gate = asyncio.Semaphore(CREATE_CONCURRENCY)
    url = f"{back.md_base}/api/v1/tenants/{back.tenant_id}/items"

    async def create(code: str) -> None:
        body = {
            "itemCode": code,
            "description": f"Bench item {code}",
            "unitPrice": 2,
            "unitCost": 1.25,
            "itemDetails": [],
            "imageUrls": [],
            "categoryCode": "BENCH",
            "taxCode": "01",
        }
        async with gate:
            r = await back.call("POST", url, body)
        if r.status_code != 409:
            r.raise_for_status()

    await asyncio.gather(*(create(code) for code in codes))


async def seed(back: Back, store: str, codes: Sequence[str], quantity: int = 10) -> None:
    """Every item created in master-data, then taken in by receipts of `BATCH_LINES` lines
    (quantity 10 at cost 1.25)."""
    await create_items(back, codes)
    for n, chunk in enumerate(batches(codes)):
        body = {
            "supplier": "bench",
            "reference": f"SEED-{store}-{n}",
            "lines": [{"itemCode": c, "quantity": quantity, "unitCost": 1.25} for c in chunk],
        }
        r = await back.call("POST", back.stock(store, "/receipts"), body)
        r.raise_for_status()


async def open_and_enter(
    back: Back, store: str, codes: Sequence[str], run: int
) -> tuple[str, list[float], list[str]]:
    """Open a whole-store count and enter every item (one zone): the count id, the entry
    PUTs' times (ms) and the refused ones (`status code`: a figure, not a crash). Every other
    item is counted short, so a post writes len(codes) / 2 variance rows."""
    r = await back.call("POST", back.stock(store, "/counts"), {})
    r.raise_for_status()
    count_id = r.json()["data"]["countId"]
    entries: list[float] = []
    refused: list[str] = []
    for chunk in batches(codes):
        # Counted 10 - run, or one less on alternate items (shifted each run): from the
        # seeded 10, each run's post changes half of the items.
        lines = [
            {"itemCode": c, "zone": "shelf", "countedQuantity": 10 - run - (i + run) % 2}
            for i, c in enumerate(chunk)
        ]
        started = time.perf_counter()
        try:
            r = await back.call("PUT", back.stock(store, f"/counts/{count_id}/lines"), lines)
            status = str(r.status_code)
        except httpx.HTTPError as exc:
            status = type(exc).__name__
        if status == "200":
            entries.append((time.perf_counter() - started) * 1000)
        else:
            refused.append(status)
    return count_id, entries, refused


async def post_count(back: Back, store: str, count_id: str) -> float | None:
    """The post's time (ms), or None when it was refused."""
    started = time.perf_counter()
    try:
        r = await back.call("POST", back.stock(store, f"/counts/{count_id}/post"))
    except httpx.HTTPError:
        return None
    elapsed = (time.perf_counter() - started) * 1000
    return elapsed if r.status_code == 200 else None


@scenario("stock.count_post", services=("master-data", "stock"), default=False)
async def count_post(context: BenchContext) -> list[tuple[str, LoadResult]]:
    back = await Back.new_tenant(context, "TCOUNT")
    store, codes = "S1", item_codes("C", COUNT_ITEMS)
    await seed(back, store, codes)
    wall = time.perf_counter()
    entries: list[float] = []
    entries_refused: list[str] = []
    posts: list[float] = []
    refused = 0
    for run in range(RUNS):
        count_id, entered, failed = await open_and_enter(back, store, codes, run)
        entries.extend(entered)
        entries_refused.extend(failed)
        post_ms = await post_count(back, store, count_id)
        if post_ms is None:
            refused += 1
        else:
            posts.append(post_ms)
    wall_seconds = time.perf_counter() - wall
    lines = timed(
        entries,
        len(entries_refused),
        wall_seconds,
        lines_per_request=BATCH_LINES,
        refused=entries_refused or None,
    )
    # A post after refused entries (count_lines' errors) posts fewer items than COUNT_ITEMS.
    post = timed(posts, refused, wall_seconds, items=COUNT_ITEMS)
    return [("stock.count_lines", lines), ("stock.count_post", post)]


@scenario("stock.batch_adjustment", services=("master-data", "stock"), default=False)
async def batch_adjustment(context: BenchContext) -> list[tuple[str, LoadResult]]:
    back = await Back.new_tenant(context, "TADJ")
    store, codes = "S1", item_codes("A", BATCH_LINES)
    await seed(back, store, codes)
    url = back.stock(store, "/adjustments")
    latencies: list[float] = []
    errors = 0
    wall = time.perf_counter()
    for run in range(RUNS):
        body = {
            "lines": [
                {"itemCode": c, "quantityChange": -1 if run % 2 else 1, "reason": "bench"}
                for c in codes
            ]
        }
        started = time.perf_counter()
        r = await back.call("POST", url, body)
        if r.status_code == 201:
            latencies.append((time.perf_counter() - started) * 1000)
        else:
            errors += 1
    wall_seconds = time.perf_counter() - wall
    return [("stock.batch_adjustment", timed(latencies, errors, wall_seconds, lines=BATCH_LINES))]


LAG_SERVICES = ("account", "terminal", "master-data", "cart", "stock")
LAG_SALES = 10


async def _sale_lags(tills: Tills, probe: Probe, sales: int) -> tuple[list[float], int]:
    """`sales` sales of the watched item; each one's lag to stock (ms) and the failures. One
    probe for all the runs of `tills`: it counts bills by their ordinal across runs."""
    watcher = Watcher(probe)
    run = await tills.run(sales, [watcher])
    return watcher.lags, run.failed + watcher.timeouts


@scenario("stock.count_post_sale_lag", services=LAG_SERVICES, default=False)
async def count_post_sale_lag(context: BenchContext) -> list[tuple[str, LoadResult]]:
    """A sale's stock lag (bill answered → the item's quantity shows it, `stock.event_lag`'s
    probe) while a count of `COUNT_ITEMS` items posts, beside the same lag with no post. The
    sold item is not in the count: the lag measured is the consumer waiting on the post's
    transaction and CPU, not a conflict on the same row."""
    urls = {name: context.stack.url(name) for name in LAG_SERVICES}
    shop = await open_shop(context.client, urls, terminals=1)
    item = next(i.code for i in shop.items if not i.restricted)
    tills = Tills([Register(context.client, shop, t) for t in shop.tills], partial(_sell, item))
    back = Back(context.client, urls["stock"], shop.tenant_id, shop.admin, urls["master-data"])
    store, codes = shop.store_code, item_codes("C", COUNT_ITEMS)
    await seed(back, store, codes)

    probe = await stock_probe(context.client, shop, item)
    await _sale_lags(tills, probe, 2)  # warm-up: the item's row, the consumer's first event
    started = time.perf_counter()
    idle, idle_errors = await _sale_lags(tills, probe, LAG_SALES)
    idle_seconds = time.perf_counter() - started
    count_id, _, _ = await open_and_enter(back, store, codes, 0)
    posting = asyncio.create_task(post_count(back, store, count_id))
    started = time.perf_counter()
    during: list[float] = []
    during_errors = 0
    # Sell until the post answers (at least one sale), so every lag overlaps the post.
    while not posting.done() or not (during or during_errors):
        lags, failed = await _sale_lags(tills, probe, 1)
        during.extend(lags)
        during_errors += failed
    post_ms = await posting
    during_seconds = time.perf_counter() - started
    return lag_results(
        (idle, idle_errors, idle_seconds), (during, during_errors, during_seconds), post_ms
    )


# Lags (ms), failed sales or lags never seen, wall seconds.
LagRun = tuple[Sequence[float], int, float]


def lag_results(
    idle: LagRun, during: LagRun, post_ms: float | None
) -> list[tuple[str, LoadResult]]:
    """The lag with no post, and during the post (a refused post counts as an error there)."""
    lags, errors, seconds = during
    return [
        ("stock.sale_lag_idle", timed(*idle)),
        (
            "stock.sale_lag_during_count_post",
            timed(
                lags,
                errors + (post_ms is None),
                seconds,
                items=COUNT_ITEMS,
                post_ms=None if post_ms is None else round(post_ms, 1),
            ),
        ),
    ]


async def _sell(item: str, register: Register):
    return await quick_sale(register, [item])
