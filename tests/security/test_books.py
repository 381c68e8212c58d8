"""Only the cart writes the books (issue 21, items 1, 2 and 4): what an attacker inside a
tenant tried, each refused with nothing written, and the real sale still counted once.

- A clerk, a manager or a till posting a transaction log straight into journal or report
  (even one with a future transaction number, so that the real sale would later be taken for
  its duplicate): 403, nothing in journal, report or stock; the real sale with that number is
  then counted exactly once. An admin's import is accepted and audited.
- A cart billed as anything but a sale (102, 999, 0, -101): 400 `401004`, nothing billed.
- Stock changed by a clerk or by another store's till: 403; the store's own till may.
- The tenant's reports rebuilt by a clerk or a manager: 403.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from kugelpos.devstack.pos import Register, Shop, add_till, open_shop
from kugelpos.devstack.stack import Stack
from kugelpos.testkit.security import user_bearer
from kugelpos.testkit.testing import assert_error, assert_ok

SERVICES = ("account", "terminal", "master-data", "cart", "journal", "report", "stock")


@pytest.fixture
async def shop(stack: Stack) -> Shop:
    async with httpx.AsyncClient(timeout=60) as client:
        return await open_shop(client, {n: stack.url(n) for n in SERVICES}, terminals=1)


async def _jwt(client: httpx.AsyncClient, shop: Shop, till) -> dict[str, str]:
    r = await client.post(
        shop.url("terminal", "/api/v1/auth/token"), headers=till.headers, params=till.params
    )
    return {"Authorization": f"Bearer {assert_ok(r)['data']['access_token']}"}


def _forged_log(shop: Shop, transaction_no: int) -> dict[str, Any]:
    """A sale the till never made: a log in the cart's shape, 50 stamps (tax exempt)."""
    return {
        "tenant_id": shop.tenant_id,
        "store_code": shop.store_code,
        "terminal_no": 1,
        "business_date": "20261206",
        "generate_date_time": "2026-12-06T10:00:00+09:00",
        "transaction_no": transaction_no,
        "transaction_type": 101,
        "receipt_no": transaction_no,
        "sales": {"total_amount": 7500, "total_amount_with_tax": 7500, "is_cancelled": False},
        "line_items": [{"line_no": 1, "item_code": "4903", "quantity": 50, "unit_price": 150}],
        "payments": [{"payment_code": "01", "amount": 7500}],
    }


def _intake(shop: Shop, service: str) -> str:
    path = f"/api/v1/tenants/{shop.tenant_id}/stores/{shop.store_code}/terminals/1/transactions"
    return shop.url(service, path)


async def _journal_count(client: httpx.AsyncClient, shop: Shop) -> int:
    r = await client.get(
        shop.url("journal", f"/api/v1/tenants/{shop.tenant_id}/stores/{shop.store_code}/journals"),
        headers=shop.admin,
        params={"limit": 100},
    )
    return len(assert_ok(r)["data"])


async def _stock(client: httpx.AsyncClient, shop: Shop, item: str = "4903") -> float | None:
    r = await client.get(
        shop.url(
            "stock", f"/api/v1/tenants/{shop.tenant_id}/stores/{shop.store_code}/stock/{item}"
        ),
        headers=shop.admin,
    )
    return None if r.status_code == 404 else assert_ok(r)["data"]["currentQuantity"]


async def test_nobody_but_a_service_or_an_audited_admin_uses_the_intake(
    stack: Stack, shop: Shop
) -> None:
    till = shop.tills[0]
    async with httpx.AsyncClient(timeout=30) as client:
        clerk = await user_bearer(client, stack.url("account"), shop, "clerk", "user")
        manager = await user_bearer(client, stack.url("account"), shop, "manager", "manager")
        callers = {
            "clerk": clerk,
            "manager": manager,
            "till JWT": await _jwt(client, shop, till),
        }
        journal_before = await _journal_count(client, shop)
        # The real next receipt number of the till is 1: the forged log takes it first.
        forged = _forged_log(shop, transaction_no=1)
        for service in ("journal", "report"):
            for label, headers in callers.items():
                r = await client.post(_intake(shop, service), json=forged, headers=headers)
                assert r.status_code == 403, (service, label, r.text)
                assert_error(r, 403, "200002")
            r = await client.post(
                _intake(shop, service),
                json=forged,
                headers=till.headers,
                params=till.params,
            )
            assert_error(r, 403, "200002")
        # Nothing was written: no journal entry, no stock movement.
        assert await _journal_count(client, shop) == journal_before
        assert await _stock(client, shop) is None

        # The real sale with that number is counted once, in full, everywhere.
        register = Register(client, shop, till)
        tran = await register.sale(("4903", 1))
        assert tran["transactionNo"] == 1
        deadline = asyncio.get_running_loop().time() + 30
        while await _stock(client, shop) != -1:
            assert asyncio.get_running_loop().time() < deadline, await _stock(client, shop)
            await asyncio.sleep(0.2)
        sales = await _flash_sales(client, shop, tran["businessDate"])
        assert sales == {"count": 1, "amount": tran["totalAmountWithTax"]}


async def _flash_sales(client: httpx.AsyncClient, shop: Shop, business_date: str) -> dict:
    url = shop.url("report", f"/api/v1/tenants/{shop.tenant_id}/stores/{shop.store_code}/reports")
    params = {"report_scope": "flash", "report_type": "sales", "business_date": business_date}
    deadline = asyncio.get_running_loop().time() + 30
    while True:
        figures = assert_ok(await client.get(url, params=params, headers=shop.admin))["data"]
        gross = figures["salesGross"]
        if gross["count"] or asyncio.get_running_loop().time() > deadline:
            return {"count": gross["count"], "amount": gross["amount"]}
        await asyncio.sleep(0.2)


async def test_an_admin_import_is_accepted_and_audited(stack: Stack, shop: Shop) -> None:
    async with httpx.AsyncClient(timeout=30) as client:
        log = _forged_log(shop, transaction_no=900_001)
        r = await client.post(_intake(shop, "journal"), json=log, headers=shop.admin)
        assert_ok(r, 201)
    journal_log = stack.log_path("journal").read_text()
    audit = [
        line
        for line in journal_log.splitlines()
        if '"transaction_imported"' in line and shop.tenant_id in line
    ]
    assert audit, "an admin's import leaves no audit line"
    assert '"by": "admin"' in audit[-1] and "900001" in audit[-1]


@pytest.mark.parametrize("kind", [102, 201, 999, 0, -101])
async def test_a_cart_is_a_sale(shop: Shop, kind: int) -> None:
    till = shop.tills[0]
    async with httpx.AsyncClient(timeout=30) as client:
        r = await client.post(
            shop.url("cart", "/api/v1/carts"),
            headers=till.headers,
            params=till.params,
            json={"transactionType": kind},
        )
        assert_error(r, 400, "401004")
        register = Register(client, shop, till)
        r = await client.get(register.transactions_url(), headers=till.headers, params=till.params)
        assert assert_ok(r)["data"] == []


async def test_stock_is_changed_only_by_its_store_and_the_back_office(
    stack: Stack, shop: Shop
) -> None:
    async with httpx.AsyncClient(timeout=30) as client:
        clerk = await user_bearer(client, stack.url("account"), shop, "clerk2", "user")
        r = await client.post(
            shop.url("terminal", f"/api/v1/tenants/{shop.tenant_id}/stores"),
            headers=shop.admin,
            json={"storeCode": shop.store_code + "N", "storeName": "Next door"},
        )
        assert_ok(r, 201)
        neighbour = await add_till(
            client, Shop(shop.tenant_id, shop.store_code + "N", shop.admin, shop.urls), 1
        )
        url = shop.url(
            "stock",
            f"/api/v1/tenants/{shop.tenant_id}/stores/{shop.store_code}/stock/4902/update",
        )
        body = {"quantityChange": 100, "updateType": "adjustment"}
        for label, headers, params in (
            ("clerk", clerk, {}),
            ("another store's till (API key)", neighbour.headers, neighbour.params),
            ("another store's till (JWT)", await _jwt(client, shop, neighbour), {}),
        ):
            r = await client.put(url, json=body, headers=headers, params=params)
            assert r.status_code == 403, (label, r.text)
            assert_error(r, 403, "200002")
        assert await _stock(client, shop, "4902") is None
        own = shop.tills[0]
        assert_ok(await client.put(url, json=body, headers=own.headers, params=own.params))
        assert await _stock(client, shop, "4902") == 100


async def test_reports_are_rebuilt_by_the_admin_only(stack: Stack, shop: Shop) -> None:
    url = shop.url("report", f"/api/v1/tenants/{shop.tenant_id}/reports/rebuild")
    async with httpx.AsyncClient(timeout=60) as client:
        for role in ("user", "manager"):
            headers = await user_bearer(client, stack.url("account"), shop, f"r{role}", role)
            assert_error(await client.post(url, headers=headers), 403, "200002")
        assert_ok(await client.post(url, headers=shop.admin))
