"""Cart: offline sales taken back (issue 27). Opt-in: `--only cart.offline_upload`.

Each level opens a fresh store with N terminals (signed in, open) and an opening stock of the
sold item. Each terminal reserves a block of 500 numbers at the terminal service and builds
500 consistent sales of its own session (one line of tea, 1,000 each plus 10 % external tax,
1 to 3 units, paid in cash): the arithmetic a till does, written out here. Then all terminals
upload their batch of 500 at once (one request each) and the watchers poll, per terminal,
until the journal lists its 500 offline sales, its flash sales report counts them and the
store's stock of the item has dropped by every unit sold. Reported per level:

- `cart.offline_upload`: `requests` = sales accepted, the latency of each batch's upload,
  `throughput_rps` = offline sales recorded per second (all terminals);
- `cart.offline_upload.journal_lag`, `.report_lag`, `.stock_lag`: per terminal, the time
  from its upload's answer until that consumer shows all of its sales.

Everything goes through the HTTP APIs.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from typing import Any

from kugelpos.bench.scenarios import BenchContext, scenario
from kugelpos.bench.timing import LoadResult
from kugelpos.devstack.pos import Register, Shop, open_shop

SERVICES = ("account", "terminal", "master-data", "cart", "journal", "report", "stock")
BATCH = 500
ITEM, PRICE, TAX_CODE = "4901", 1000, "01"  # external 10 %
OPENING_STOCK = 1_000_000
LAG_TIMEOUT = 300.0
POLL = 0.1


def offline_sale(
    offline_id: str, transaction_no: int, receipt_no: int, session: dict[str, Any], qty: int
) -> dict[str, Any]:
    amount = PRICE * qty
    tax = amount // 10
    return {
        "offlineId": offline_id,
        "transactionNo": transaction_no,
        "receiptNo": receipt_no,
        "businessDate": session["businessDate"],
        "openCounter": session["openCounter"],
        "generateDateTime": datetime.now(UTC).isoformat(),
        "totalAmount": amount + tax,
        "totalAmountWithTax": amount + tax,
        "totalQuantity": qty,
        "totalDiscountAmount": 0,
        "depositAmount": amount + tax,
        "changeAmount": 0,
        "lineItems": [
            {
                "lineNo": 1,
                "itemCode": ITEM,
                "itemName": "Green Tea 500ml",
                "taxCode": TAX_CODE,
                "unitPrice": PRICE,
                "quantity": qty,
                "amount": amount,
                "discounts": [],
            }
        ],
        "taxes": [
            {
                "taxNo": 1,
                "taxCode": TAX_CODE,
                "taxType": "External",
                "taxName": "Tax 10%",
                "taxAmount": tax,
                "targetAmount": amount,
                "targetQuantity": qty,
            }
        ],
        "payments": [
            {
                "paymentNo": 1,
                "paymentCode": "01",
                "paymentName": "Cash",
                "paymentAmount": amount + tax,
                "depositAmount": amount + tax,
            }
        ],
        "subtotalDiscounts": [],
    }


async def _batch(context: BenchContext, shop: Shop, register: Register) -> list[dict]:
    till = register.till
    terminal = shop.url("terminal", f"/api/v1/terminals/{till.terminal_id}")
    r = await context.client.get(terminal, headers=till.headers, params=till.params)
    assert r.status_code == 200, r.text
    session = r.json()["data"]
    r = await context.client.post(
        f"{terminal}/offline-numbers", json={"size": BATCH}, headers=till.headers
    )
    assert r.status_code == 200, r.text
    block = r.json()["data"]
    t0, r0 = block["transactionNoFrom"], block["receiptNoFrom"]
    return [
        offline_sale(f"{till.terminal_no}-{i}", t0 + i, r0 + i, session, 1 + i % 3)
        for i in range(BATCH)
    ]


async def _until(check, started: float) -> float:
    """ms from `started` until `check()` is true (LAG_TIMEOUT: an error)."""
    while not await check():
        if time.perf_counter() - started > LAG_TIMEOUT:
            raise TimeoutError("offline sales not seen downstream")
        await asyncio.sleep(POLL)
    return (time.perf_counter() - started) * 1000


async def _level(
    context: BenchContext, urls: dict[str, str], concurrency: int
) -> list[tuple[str, LoadResult]]:
    client = context.client
    shop = await open_shop(client, urls, terminals=concurrency)
    admin = shop.admin
    store = f"/api/v1/tenants/{shop.tenant_id}/stores/{shop.store_code}"
    stock = shop.url("stock", f"{store}/stock/{ITEM}")
    r = await client.put(
        f"{stock}/update",
        json={"quantityChange": OPENING_STOCK, "updateType": "initial"},
        headers=admin,
    )
    assert r.status_code == 200, r.text
    registers = [Register(client, shop, till) for till in shop.tills]
    batches = [await _batch(context, shop, register) for register in registers]
    units = {
        register.till.terminal_no: sum(s["totalQuantity"] for s in batch)
        for register, batch in zip(registers, batches, strict=True)
    }
    all_units = sum(units.values())
    uploads: list[float] = []
    accepted = 0
    failed = 0
    lags: dict[str, list[float]] = {"journal": [], "report": [], "stock": []}
    refusals: list[str] = []

    async def journal_done(no: int) -> bool:
        r = await client.get(
            shop.url("journal", f"{store}/journals"),
            headers=admin,
            params={"terminals": no, "transaction_types": 101, "limit": 1},
        )
        return r.status_code == 200 and (r.json()["metadata"] or {}).get("total", 0) >= BATCH

    async def report_done(no: int, date: str) -> bool:
        r = await client.get(
            shop.url("report", f"{store}/terminals/{no}/reports"),
            headers=admin,
            params={"report_scope": "flash", "report_type": "sales", "business_date": date},
        )
        return r.status_code == 200 and r.json()["data"]["salesGross"]["count"] >= BATCH

    async def stock_done() -> bool:
        r = await client.get(stock, headers=admin)
        return r.status_code == 200 and (
            r.json()["data"]["currentQuantity"] <= OPENING_STOCK - all_units
        )

    async def terminal(register: Register, batch: list[dict]) -> None:
        nonlocal accepted, failed
        till = register.till
        started = time.perf_counter()
        r = await client.post(
            register.transactions_url("/offline"),
            json={"transactions": batch},
            headers=till.headers,
            params=till.params,
            timeout=600,
        )
        answered = time.perf_counter()
        uploads.append((answered - started) * 1000)
        if r.status_code != 200:
            failed += len(batch)
            refusals.append(f"{r.status_code} {r.text[:300]}")
            return
        statuses = [x["status"] for x in r.json()["data"]]
        accepted += statuses.count("accepted")
        failed += len(batch) - statuses.count("accepted")
        date = batch[0]["businessDate"]
        lags["journal"].append(await _until(lambda: journal_done(till.terminal_no), answered))
        lags["report"].append(await _until(lambda: report_done(till.terminal_no, date), answered))
        lags["stock"].append(await _until(stock_done, answered))

    started = time.perf_counter()
    async with asyncio.TaskGroup() as group:
        for register, batch in zip(registers, batches, strict=True):
            group.create_task(terminal(register, batch))
    wall = max(uploads) / 1000 if uploads else time.perf_counter() - started
    out = [
        (
            "cart.offline_upload",
            LoadResult(
                accepted,
                failed,
                concurrency,
                wall,
                tuple(uploads),
                details={"refusals": refusals} if refusals else None,
            ),
        )
    ]
    for name, values in lags.items():
        out.append(
            (
                f"cart.offline_upload.{name}_lag",
                LoadResult(len(values), 0, concurrency, max(values or [1]) / 1000, tuple(values)),
            )
        )
    return out


@scenario("cart.offline_upload", services=SERVICES, default=False)
async def offline_upload(context: BenchContext) -> list[tuple[str, LoadResult]]:
    urls = {name: context.stack.url(name) for name in SERVICES}
    out: list[tuple[str, LoadResult]] = []
    for concurrency in context.concurrency_levels:
        out += await _level(context, urls, concurrency)
    return out
