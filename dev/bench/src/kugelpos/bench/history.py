"""Earlier sales for the checkout benchmark: the store sells on top of a realistic history.

Why: a cost that grows with history (an index check, a query that scans, an outbox lookup of
the relay) stays invisible while the collections hold only the few hundred sales a benchmark
makes. Seeding through the HTTP API costs ~50 ms a sale on the embedded engine, so the history
is written by the cart's own seeding module (`kugelpos.cart.seeding`: copies of one real bill,
shaped exactly as the cart writes them, with their outbox records; its docstring says how).
Here: the template bill is made through the API on a spare till, and the oldest seeded day is
read back through the cart's list endpoint.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass

from kugelpos.bench.scenarios import BenchContext
from kugelpos.bench.timing import LoadResult
from kugelpos.cart import seeding
from kugelpos.devstack.pos import Register, Shop, add_till, open_till

HISTORY_SALES = int(os.environ.get("KUGELPOS_BENCH_HISTORY", "5000"))


def history_size(context: BenchContext) -> int:
    return HISTORY_SALES if context.history is None else max(0, context.history)


@dataclass(frozen=True)
class Seeded:
    """What a level's store held before its timed sales (the JSON's `seeded` entry)."""

    sales: int
    unacknowledged: int = 0
    outbox_total: int = 0  # the cart's whole outbox: every tenant seeded or sold so far
    seconds: float = 0.0
    insert_seconds: float = 0.0  # of `seconds`, in insert_many (the engine's share)

    def figures(self) -> dict[str, object]:
        if not self.sales:
            return {"tranlogs": 0, "outbox": 0}
        return {
            "tranlogs": self.sales,
            "outbox": self.sales,
            "unacknowledged": self.unacknowledged,
            "outbox_total": self.outbox_total,
            "seconds": round(self.seconds, 1),
            "insert_seconds": round(self.insert_seconds, 1),
        }


@dataclass(frozen=True)
class SeededResult(LoadResult):
    """A LoadResult taken over a seeded history: the JSON says how much, so nobody compares it
    with a figure taken on an empty store unawares."""

    seeded: Seeded | None = None

    def figures(self) -> dict[str, object]:
        figures = super().figures()
        if self.seeded is not None:
            figures["seeded"] = self.seeded.figures()
        return figures


async def _template(context: BenchContext, shop: Shop, items: Sequence[str]) -> str:
    """One real sale on a spare till (kept out of `shop.tills`: the timed loop never sells on
    it); returns its cart id."""
    number = max(till.terminal_no for till in shop.tills) + 1
    till = await add_till(context.client, shop, number)
    shop.tills.remove(till)
    await open_till(context.client, shop, till)
    sale = await Register(context.client, shop, till).sale(*((code, 1) for code in items))
    return sale["cartId"]


async def _listed(context: BenchContext, shop: Shop, business_date: str, expected: int) -> None:
    """The oldest seeded day through the cart's own list endpoint: proof the copies read back
    as the cart's documents (a field it cannot load would answer 500)."""
    register = Register(context.client, shop, shop.tills[0])
    response = await context.client.get(
        register.transactions_url(),
        params={"business_date": business_date, "limit": 5, **shop.tills[0].params},
        headers=shop.tills[0].headers,
    )
    body = response.json() if response.status_code == 200 else {}
    total = (body.get("metadata") or {}).get("total")
    if total != expected or len(body.get("data") or ()) != min(5, expected):
        raise AssertionError(f"seeded history not listed: {response.status_code} {total}")


async def seed_history(
    context: BenchContext, shop: Shop, items: Sequence[str], count: int
) -> Seeded:
    """`count` earlier sales spread over the shop's tills, with their outbox records."""
    if count <= 0:
        return Seeded(0)
    started = time.perf_counter()
    cart_id = await _template(context, shop, items)
    history = await seeding.seed_history(
        mongodb_uri=context.stack.mongo_uri_for("cart"),
        db_name_prefix=context.stack.db_prefix("cart"),
        tenant_id=shop.tenant_id,
        template_cart_id=cart_id,
        tills=[seeding.Till(till.terminal_id, till.terminal_no) for till in shop.tills],
        count=count,
    )
    if history.oldest_day is not None:
        await _listed(context, shop, history.oldest_day, history.oldest_day_sales)
    seeded = Seeded(
        count,
        history.unacknowledged,
        history.outbox_total,
        time.perf_counter() - started,
        history.insert_seconds,
    )
    print(
        f"history: {count} sales and outbox records over {len(shop.tills)} till(s) "
        f"in {seeded.seconds:.1f} s ({seeded.insert_seconds:.1f} s inserting)",
        file=sys.stderr,
        flush=True,
    )
    return seeded
