"""Cart: a partial return's latency beside a sale's bill, from N terminals at once (issue 25).

Each level opens a fresh store with N terminals (signed in, open; no seeded history: a return
reads only its sale's tranlog and status by key), runs one warm-up sale and return per
terminal, then the terminals work in a closed loop: a sale of two lines (tea x 2, sandwich x 1:
external and internal tax) billed in cash, its return quote for one unit of its first line,
then that return through the object form (`{"lines": [{"lineNo": 1, "quantity": 1}],
"payments": [...]}`, cash, the sale's own tender: no approval). Reported per level:

- `cart.return_bill`: latency of the sale's bill (the figure the return stands beside);
- `cart.return_quote`: latency of the quote (computes, writes nothing);
- `cart.partial_return`: latency of the return (claim on the sale's status, tranlog, numbers
  and outbox event written), and `throughput_rps` = returns/s.

Everything goes through the cart's HTTP API.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from typing import Any

from kugelpos.bench.scenarios import BenchContext, scenario
from kugelpos.bench.timing import LoadResult
from kugelpos.devstack.pos import Register, open_shop

SERVICES = ("account", "terminal", "master-data", "cart")
SALE = (("4901", 2), ("4904", 1))  # two lines
RETURNED = [{"lineNo": 1, "quantity": 1}]


async def sale_and_return(
    register: Register, bills: list[float], quotes: list[float], returns: list[float]
) -> bool:
    """One sale and the return of one unit of its first line, timing bill, quote and return;
    False if a step was refused."""
    cart_id = await register.create()
    if (await register.add(cart_id, *SALE)).status_code != 200:
        return False
    r = await register.subtotal(cart_id)
    if r.status_code != 200:
        return False
    total = int(r.json()["data"]["totalAmountWithTax"])
    if (await register.pay(cart_id, ("01", total))).status_code != 200:
        return False
    started = time.perf_counter()
    r = await register.bill(cart_id)
    bills.append((time.perf_counter() - started) * 1000)
    if r.status_code != 200:
        return False
    url = register.transactions_url(f"/{r.json()['data']['transactionNo']}/return")
    kwargs: dict[str, Any] = {"params": register.till.params, "headers": register.till.headers}
    started = time.perf_counter()
    r = await register.client.post(f"{url}/quote", json={"lines": RETURNED}, **kwargs)
    quotes.append((time.perf_counter() - started) * 1000)
    if r.status_code != 200:
        return False
    back = int(r.json()["data"]["totalAmountWithTax"])
    body = {"lines": RETURNED, "payments": [{"paymentCode": "01", "amount": back}]}
    started = time.perf_counter()
    r = await register.client.post(url, json=body, **kwargs)
    returns.append((time.perf_counter() - started) * 1000)
    return r.status_code == 200


def results(
    concurrency: int,
    wall: float,
    failed: int,
    bills: Sequence[float],
    quotes: Sequence[float],
    returns: Sequence[float],
) -> list[tuple[str, LoadResult]]:
    """The level's figures: the bill, the quote and the return, side by side."""
    return [
        (f"cart.{name}", LoadResult(len(latencies), failed, concurrency, wall, tuple(latencies)))
        for name, latencies in (
            ("return_bill", bills),
            ("return_quote", quotes),
            ("partial_return", returns),
        )
    ]


async def _level(
    context: BenchContext, urls: dict[str, str], concurrency: int
) -> list[tuple[str, LoadResult]]:
    shop = await open_shop(context.client, urls, terminals=concurrency)
    registers = [Register(context.client, shop, till) for till in shop.tills]
    await asyncio.gather(*(sale_and_return(r, [], [], []) for r in registers))  # warm-up
    queue = iter(range(max(concurrency * 3, context.requests // 4)))
    bills: list[float] = []
    quotes: list[float] = []
    returns: list[float] = []
    failed = 0

    async def terminal(register: Register) -> None:
        nonlocal failed
        for _ in queue:
            try:
                ok = await sale_and_return(register, bills, quotes, returns)
            except Exception:  # a failed return is a figure, not a crash
                ok = False
            failed += not ok

    started = time.perf_counter()
    async with asyncio.TaskGroup() as group:
        for register in registers:
            group.create_task(terminal(register))
    return results(concurrency, time.perf_counter() - started, failed, bills, quotes, returns)


@scenario("cart.partial_return", services=SERVICES)
async def partial_return(context: BenchContext) -> list[tuple[str, LoadResult]]:
    urls = {name: context.stack.url(name) for name in SERVICES}
    out: list[tuple[str, LoadResult]] = []
    for concurrency in context.concurrency_levels:
        out += await _level(context, urls, concurrency)
    return out
