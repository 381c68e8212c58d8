"""Where a sale shows once its event is consumed: one `Probe` per consumer, each asking with
one request which of the outstanding bills it shows (see `lag.py` for why one request).

- journal: the store's sale entries (type 101) counted by a search, up by the bill's
  ordinal since the probe was made. It once asked for each outstanding receipt by terminal and
  number (up to 1,000 entries, texts included, every 20 ms): one late event kept the oldest
  receipt outstanding while the page grew, and the probe then took the journal's CPU (the
  ten-minute soak saw 29 s p95 lags);
- report: the store's flash sales report counts it. The count does not say which sales it
  holds, so a bill counts as shown once the count reaches its ordinal (bills numbered in the
  order their responses came): exact while events are applied in bill order, which one
  store-wide request allows where asking each terminal's report would cost N requests a poll;
- stock: the watched item's quantity (one unit of it in every sale) has gone down by the
  bill's ordinal since the probe was made, the same counting as the report's. It once looked
  for each bill's transaction key in the item's history, a page of up to 1,000 rows every
  20 ms: on the embedded SQLite engine that page costs 0.1-0.2 s over a few thousand rows,
  so the probe took the stock service's CPU and the lag it measured grew with the day.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

import httpx

from kugelpos.bench.lag import Bill, Probe
from kugelpos.devstack.pos import Shop


def _store(shop: Shop, service: str, path: str) -> str:
    return shop.url(service, f"/api/v1/tenants/{shop.tenant_id}/stores/{shop.store_code}{path}")


async def _moved_by_sales(
    read: Callable[[], Awaitable[float | None]], what: str, direction: int
) -> Probe:
    """A probe on a figure that moves by one per sale (`direction` +1 up, -1 down), read once
    now: a bill shows once the figure has moved by its ordinal since then."""
    start = await read()
    if start is None:
        raise RuntimeError(f"{what} cannot be read")

    async def probe(bills: Sequence[Bill]) -> list[Bill]:
        now = await read()
        if now is None:
            return []
        moved = round((now - start) * direction)
        return [bill for bill in bills if bill.ordinal <= moved]

    return probe


async def journal_probe(client: httpx.AsyncClient, shop: Shop) -> Probe:
    """Made before the sales it watches: it counts the store's sale entries then."""
    url = _store(shop, "journal", "/journals")
    params = {"transaction_types": 101, "limit": 1}

    async def total() -> float | None:
        response = await client.get(url, params=params, headers=shop.admin)
        if response.status_code != 200:
            return None
        return float(response.json()["metadata"]["total"])

    return await _moved_by_sales(total, "the journal", +1)


def report_probe(client: httpx.AsyncClient, shop: Shop) -> Probe:
    url = _store(shop, "report", "/reports")

    async def probe(bills: Sequence[Bill]) -> list[Bill]:
        params = {
            "report_scope": "flash",
            "report_type": "sales",
            "business_date": bills[0].business_date,
        }
        response = await client.get(url, params=params, headers=shop.admin)
        if response.status_code != 200:
            return []
        counted = response.json()["data"]["salesGross"]["count"]
        return [bill for bill in bills if bill.ordinal <= counted]

    return probe


async def stock_probe(client: httpx.AsyncClient, shop: Shop, item: str) -> Probe:
    """Made before the sales it watches: it reads the item's quantity then (none yet: 0)."""
    url = _store(shop, "stock", f"/stock/{item}")

    async def quantity() -> float | None:
        response = await client.get(url, headers=shop.admin)
        if response.status_code == 404:
            return 0.0  # no stock row until the first sale (unknown items are allowed)
        if response.status_code != 200:
            return None
        return float(response.json()["data"]["currentQuantity"])

    return await _moved_by_sales(quantity, f"stock of {item}", -1)
