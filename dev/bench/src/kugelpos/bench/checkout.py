"""Cart: a whole checkout per sale, from N terminals at once, in a store with a history.

Each level opens a fresh store with N terminals (signed in, open), seeds its history (`--history`
earlier sales, default 5,000, spread over the N tills, with their tranlogs, numbers and
delivered outbox records, see `history.py`: costs that grow with history only show on a store
that has one), runs one warm-up sale per terminal, then the terminals sell in a closed loop:
create cart → add 5 items one by one → subtotal → pay cash → bill. Reported per concurrency
level, each with a `seeded` entry (documents seeded, the cart's whole outbox, seconds taken):

- `cart.add_item`: latency of each add-item call (the till's scan), and adds per second;
- `cart.pay`: latency of the add-payment call (one cash tender of the total);
- `cart.bill`: latency of the bill (tranlog, numbers and outbox event written);
- `cart.checkout`: latency of a whole checkout (7 requests), and `throughput_rps` = sales/s.

`cart.checkout_keyed` is the same with an `Idempotency-Key` on every POST, as a till that
retries safely sends them (each keyed POST adds a claim and a record in the state store).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import Counter
from typing import Any

import httpx

from kugelpos.bench.history import SeededResult, history_size, seed_history
from kugelpos.bench.scenarios import BenchContext, scenario
from kugelpos.bench.timing import LoadResult
from kugelpos.devstack.pos import Register, open_shop

SERVICES = ("account", "terminal", "master-data", "cart")
ITEMS_PER_SALE = 5


def _key(keyed: bool) -> str | None:
    return uuid.uuid4().hex if keyed else None


async def timed_checkout(
    register: Register,
    items: list[str],
    adds: list[float],
    keyed: bool = False,
    bills: list[float] | None = None,
    refused: Counter[str] | None = None,
    pays: list[float] | None = None,
) -> dict[str, Any] | None:
    """One sale, timing each add-item, the payment (into `pays`, if given) and the bill; the
    billed cart, None if a step was refused or not answered (counted in `refused`, if given, by
    step, status and error code)."""

    def answered(step: str, response: httpx.Response, status: int = 200) -> bool:
        if response.status_code == status:
            return True
        if refused is not None:
            refused[_refusal(step, response)] += 1
        return False

    try:
        created = await register.open_cart(key=_key(keyed))
        if not answered("create", created, 201):
            return None
        cart_id = created.json()["data"]["cartId"]
        for code in items:
            started = time.perf_counter()
            response = await register.add(cart_id, (code, 1), key=_key(keyed))
            adds.append((time.perf_counter() - started) * 1000)
            if not answered("add_item", response):
                return None
        response = await register.subtotal(cart_id)
        if not answered("subtotal", response):
            return None
        total = int(response.json()["data"]["totalAmountWithTax"])
        started = time.perf_counter()
        response = await register.pay(cart_id, ("01", total), key=_key(keyed))
        if pays is not None:
            pays.append((time.perf_counter() - started) * 1000)
        if not answered("pay", response):
            return None
        started = time.perf_counter()
        response = await register.bill(cart_id, key=_key(keyed))
        if bills is not None:
            bills.append((time.perf_counter() - started) * 1000)
        return response.json()["data"] if answered("bill", response) else None
    except httpx.HTTPError as exc:
        if refused is not None:
            refused[f"transport {type(exc).__name__}"] += 1
        return None


def _refusal(step: str, response: httpx.Response) -> str:
    """`bill 500 500001`: the step, the status and the envelope's error code, if any."""
    code = ""
    if response.headers.get("content-type", "").startswith("application/json"):
        body = response.json()
        code = str(body.get("code", "")) if isinstance(body, dict) else ""
    return f"{step} {response.status_code} {code}".strip()


async def _level(
    context: BenchContext, urls: dict[str, str], concurrency: int, keyed: bool = False
) -> list[tuple[str, LoadResult]]:
    shop = await open_shop(context.client, urls, terminals=concurrency)
    registers = [Register(context.client, shop, till) for till in shop.tills]
    items = [item.code for item in shop.items if not item.restricted][:ITEMS_PER_SALE]
    seeded = await seed_history(context, shop, items, history_size(context))
    await asyncio.gather(*(timed_checkout(r, items, []) for r in registers))  # warm-up
    sales = max(concurrency * 3, context.requests // 4)
    queue = iter(range(sales))
    adds: list[float] = []
    pays: list[float] = []
    bills: list[float] = []
    checkouts: list[float] = []
    failed = 0

    async def terminal(register: Register) -> None:
        nonlocal failed
        for _ in queue:
            started = time.perf_counter()
            try:
                sale = await timed_checkout(register, items, adds, keyed, bills, pays=pays)
                ok = sale is not None
            except Exception:  # a failed sale is a figure, not a crash
                ok = False
            checkouts.append((time.perf_counter() - started) * 1000)
            failed += not ok

    wall_start = time.perf_counter()
    async with asyncio.TaskGroup() as group:
        for register in registers:
            group.create_task(terminal(register))
    wall = time.perf_counter() - wall_start
    suffix = "_keyed" if keyed else ""
    return [
        (
            f"cart.{operation}{suffix}",
            SeededResult(count, failed, concurrency, wall, tuple(latencies), seeded=seeded),
        )
        for operation, count, latencies in (
            ("add_item", len(adds), adds),
            ("pay", len(pays), pays),
            ("bill", len(bills), bills),
            ("checkout", sales, checkouts),
        )
    ]


@scenario("cart.checkout", services=SERVICES)
async def checkout(context: BenchContext) -> list[tuple[str, LoadResult]]:
    urls = {name: context.stack.url(name) for name in SERVICES}
    results: list[tuple[str, LoadResult]] = []
    for concurrency in context.concurrency_levels:
        results += await _level(context, urls, concurrency)
    return results


@scenario("cart.checkout_keyed", services=SERVICES)
async def checkout_keyed(context: BenchContext) -> list[tuple[str, LoadResult]]:
    urls = {name: context.stack.url(name) for name in SERVICES}
    results: list[tuple[str, LoadResult]] = []
    for concurrency in context.concurrency_levels:
        results += await _level(context, urls, concurrency, keyed=True)
    return results
