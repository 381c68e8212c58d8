"""Where a sale shows once its event is consumed: one `Probe` per consumer, each asking with
one request which of the outstanding bills it shows (see `lag.py` for why one request).

- journal: the receipt is searchable (type 101, that terminal and receipt number);
- report: the store's flash sales report counts it. The count does not say which sales it
  holds, so a bill counts as shown once the count reaches its ordinal (bills numbered in the
  order their responses came): exact while events are applied in bill order, which one
  store-wide request allows where asking each terminal's report would cost N requests a poll;
- stock: a history row of the watched item carries the transaction key
  `{terminal_no}-{transaction_no}` (the item must be in every sale).
"""

from __future__ import annotations

from collections.abc import Sequence

import httpx

from kugelpos.devstack.bench.lag import Bill, Probe
from kugelpos.devstack.pos import Shop

MAX_LIMIT = 1000  # the services' page size bound
HISTORY_MARGIN = 50  # rows of sales answered while the poll was on its way


def _store(shop: Shop, service: str, path: str) -> str:
    return shop.url(service, f"/api/v1/tenants/{shop.tenant_id}/stores/{shop.store_code}{path}")


def journal_probe(client: httpx.AsyncClient, shop: Shop) -> Probe:
    url = _store(shop, "journal", "/journals")

    async def probe(bills: Sequence[Bill]) -> list[Bill]:
        params = {
            "transaction_types": 101,
            "terminals": sorted({bill.terminal_no for bill in bills}),
            "receipt_no_from": min(bill.receipt_no for bill in bills),
            "limit": MAX_LIMIT,
        }
        response = await client.get(url, params=params, headers=shop.admin)
        if response.status_code != 200:
            return []
        found = {(entry["terminalNo"], entry["receiptNo"]) for entry in response.json()["data"]}
        return [bill for bill in bills if (bill.terminal_no, bill.receipt_no) in found]

    return probe


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


def stock_probe(client: httpx.AsyncClient, shop: Shop, item: str) -> Probe:
    url = _store(shop, "stock", f"/stock/{item}/history")

    async def probe(bills: Sequence[Bill]) -> list[Bill]:
        # Newest rows first, one per sale: enough of them to reach back to the oldest bill.
        span = max(bill.ordinal for bill in bills) - min(bill.ordinal for bill in bills)
        limit = min(span + HISTORY_MARGIN, MAX_LIMIT)
        response = await client.get(url, params={"limit": limit}, headers=shop.admin)
        if response.status_code != 200:
            return []
        keys = {row.get("transactionKey") for row in response.json()["data"]["data"]}
        return [bill for bill in bills if f"{bill.terminal_no}-{bill.transaction_no}" in keys]

    return probe
