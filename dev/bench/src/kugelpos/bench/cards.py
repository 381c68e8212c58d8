"""Cart: a gift card payment's latency beside a cash payment's, from N terminals at once
(issue 26). Opt-in: `--only cart.card_payment`.

Each level opens a fresh store with N terminals (signed in, open; the gift card item and payment
code 21 added), the admin issues one gift card per terminal and each terminal sells its card
(GIFT_LOAD on it, through a billed cart line; the bill's log loads it). Once every card is
loaded, one warm-up pair per terminal, then the terminals work in a closed loop: a sale of one
item (tea, 1,100 with tax) paid in cash and billed, then the same sale paid with the terminal's
gift card and billed. The card payment places a hold at the stored-value service (a call from
the cart through its sidecar: card lookup, PIN-free, a conditional update of the card and its
ledger entry in one transaction) before the cart saves the payment; the cash payment only saves.
The card's bill captures the hold later, through its log (not timed here). Reported per level:

- `cart.cash_payment`, `cart.card_payment`: latency of the add-payment call;
- `cart.cash_bill`, `cart.card_bill`: latency of the bill after each;
- `throughput_rps` of the card payment figure = cash-and-card pairs per second.

Everything goes through the HTTP APIs.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from typing import Any

from kugelpos.bench.scenarios import BenchContext, scenario
from kugelpos.bench.timing import LoadResult
from kugelpos.devstack.pos import (
    CARD_PAYMENT,
    DEFAULT_ITEMS,
    DEFAULT_PAYMENTS,
    GIFT_CARD_ITEM,
    Register,
    Shop,
    open_shop,
)

SERVICES = ("account", "terminal", "master-data", "cart", "stored-value")
GIFT_LOAD = 500_000  # paid in cash (under the cash tender limit), 450 card payments
SALE = (("4901", 1),)  # 1,000 + 10 % external tax
LOAD_SECONDS = 60.0


async def paid_sale(
    register: Register, tender: dict[str, Any], pays: list[float], bills: list[float]
) -> bool:
    """One sale paid by `tender` (its amount filled in), timing the payment and the bill;
    False if a step was refused."""
    cart_id = await register.create()
    if (await register.add(cart_id, *SALE)).status_code != 200:
        return False
    r = await register.subtotal(cart_id)
    if r.status_code != 200:
        return False
    body = [tender | {"amount": int(r.json()["data"]["totalAmountWithTax"])}]
    started = time.perf_counter()
    r = await register.post(f"/{cart_id}/payments", body)
    pays.append((time.perf_counter() - started) * 1000)
    if r.status_code != 200:
        return False
    started = time.perf_counter()
    r = await register.bill(cart_id)
    bills.append((time.perf_counter() - started) * 1000)
    return r.status_code == 200


def card_tender(card_no: str) -> dict[str, Any]:
    return {"paymentCode": "21", "detail": {"cardNo": card_no}}


CASH = {"paymentCode": "01"}


def results(
    concurrency: int,
    wall: float,
    failed: int,
    cash_pays: Sequence[float],
    card_pays: Sequence[float],
    cash_bills: Sequence[float],
    card_bills: Sequence[float],
) -> list[tuple[str, LoadResult]]:
    """The level's figures: each payment and bill, cash beside card."""
    return [
        (f"cart.{name}", LoadResult(len(latencies), failed, concurrency, wall, tuple(latencies)))
        for name, latencies in (
            ("cash_payment", cash_pays),
            ("card_payment", card_pays),
            ("cash_bill", cash_bills),
            ("card_bill", card_bills),
        )
    ]


async def _sell_cards(context: BenchContext, shop: Shop, registers: list[Register]) -> list[str]:
    """One gift card per terminal, issued by the admin, sold and loaded."""
    base = shop.url("stored-value", f"/api/v1/tenants/{shop.tenant_id}/cards")
    r = await context.client.post(
        base, headers=shop.admin, json={"kind": "gift", "count": len(registers)}
    )
    assert r.status_code == 201, r.text
    cards = [c["cardNo"] for c in r.json()["data"]]
    for register, card_no in zip(registers, cards, strict=True):
        cart_id = await register.create()
        line = [{"itemCode": "GIFT", "quantity": 1, "unitPrice": GIFT_LOAD, "cardNo": card_no}]
        assert (await register.post(f"/{cart_id}/lineItems", line)).status_code == 200
        assert (await register.subtotal(cart_id)).status_code == 200
        assert (await register.pay(cart_id, ("01", GIFT_LOAD))).status_code == 200
        assert (await register.bill(cart_id)).status_code == 200
    deadline = time.monotonic() + LOAD_SECONDS
    for card_no in cards:
        while True:
            r = await context.client.get(f"{base}/{card_no}", headers=shop.admin)
            if r.status_code == 200 and r.json()["data"]["balance"] >= GIFT_LOAD:
                break
            assert time.monotonic() < deadline, f"card not loaded: {r.text}"
            await asyncio.sleep(0.2)
    return cards


async def _level(
    context: BenchContext, urls: dict[str, str], concurrency: int
) -> list[tuple[str, LoadResult]]:
    shop = await open_shop(
        context.client,
        urls,
        terminals=concurrency,
        items=(*DEFAULT_ITEMS, GIFT_CARD_ITEM),
        payments=(*DEFAULT_PAYMENTS, CARD_PAYMENT),
    )
    registers = [Register(context.client, shop, till) for till in shop.tills]
    cards = await _sell_cards(context, shop, registers)
    pairs = list(zip(registers, cards, strict=True))
    warm: list[float] = []
    await asyncio.gather(
        *(paid_sale(r, t, warm, warm) for r, c in pairs for t in (CASH, card_tender(c)))
    )
    queue = iter(range(max(concurrency * 3, context.requests // 4)))
    cash_pays: list[float] = []
    card_pays: list[float] = []
    cash_bills: list[float] = []
    card_bills: list[float] = []
    failed = 0

    async def terminal(register: Register, card_no: str) -> None:
        nonlocal failed
        for _ in queue:
            try:
                ok = await paid_sale(register, CASH, cash_pays, cash_bills)
                ok = await paid_sale(register, card_tender(card_no), card_pays, card_bills) and ok
            except Exception:  # a failed sale is a figure, not a crash
                ok = False
            failed += not ok

    started = time.perf_counter()
    async with asyncio.TaskGroup() as group:
        for register, card_no in pairs:
            group.create_task(terminal(register, card_no))
    wall = time.perf_counter() - started
    return results(concurrency, wall, failed, cash_pays, card_pays, cash_bills, card_bills)


@scenario("cart.card_payment", services=SERVICES, default=False)
async def card_payment(context: BenchContext) -> list[tuple[str, LoadResult]]:
    urls = {name: context.stack.url(name) for name in SERVICES}
    out: list[tuple[str, LoadResult]] = []
    for concurrency in context.concurrency_levels:
        out += await _level(context, urls, concurrency)
    return out
