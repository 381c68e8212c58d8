"""A real store through the other services: the terminal's tenant set-up reaches the report
service, a till opens (open + float), the cart bills a sale, the till closes; the flash report
shows the sale, the daily report is allowed after the close, and a request from the till
(API key + terminal_id) is archived in the journal as 501/502."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from pymongo import AsyncMongoClient

from kugelpos.devstack.pos import Register, Shop, open_shop
from kugelpos.devstack.stack import Stack
from kugelpos.testkit.consumers import tenant_setup_statuses
from kugelpos.testkit.testing import assert_error, assert_ok


@pytest.fixture(scope="module")
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=30) as c:
        yield c


@pytest.fixture(scope="module")
async def shop(stack: Stack, client) -> Shop:
    urls = {name: stack.url(name) for name in ("account", "terminal", "master-data", "cart")}
    return await open_shop(client, urls)


async def test_terminal_tenant_setup_reports_report_ok(stack, shop):
    setup = await tenant_setup_statuses(stack, shop.tenant_id)
    assert setup["report"] == "ok", setup


async def test_a_store_day_in_reports(stack, client, shop, mongo, wait):
    till = shop.tills[0]
    register = Register(client, shop, till)
    billed = await register.sale(("4901", 2))
    reports = (
        f"{stack.url('report')}/api/v1/tenants/{shop.tenant_id}/stores/{shop.store_code}"
        f"/terminals/{till.terminal_no}/reports"
    )
    business_date = billed["businessDate"]
    params = {**till.params, "report_type": "sales", "business_date": business_date}

    async def visible():
        r = await client.get(
            reports, params={**params, "report_scope": "flash"}, headers=till.headers
        )
        data = assert_ok(r)["data"]
        return data if data["salesGross"]["count"] == 1 else None

    data = await wait(visible)
    assert (
        data["salesNet"]["amount"] + sum(t["taxAmount"] for t in data["taxes"])
        == billed["totalAmountWithTax"]
    )
    # still open: daily refused
    r = await client.get(reports, params={**params, "report_scope": "daily"}, headers=till.headers)
    assert_error(r, 403, "412101")
    terminal = shop.url("terminal", f"/api/v1/terminals/{till.terminal_id}")
    assert_ok(await client.post(f"{terminal}/close", headers=till.headers))

    async def allowed():
        r = await client.get(
            reports, params={**params, "report_scope": "daily"}, headers=till.headers
        )
        return r.json() if r.status_code == 200 else None

    daily = (await wait(allowed))["data"]
    assert daily["salesGross"]["count"] == 1
    # both requests came from the till: archived as 501 (flash) and 502 (daily)
    journal = AsyncMongoClient(stack.mongo_uri_for("journal"), tz_aware=True)
    try:

        async def archived():
            db = journal[stack.db_name("journal", shop.tenant_id)]
            types = {e["transaction_type"] async for e in db["journal"].find({})}
            return {501, 502} <= types

        await wait(archived)
    finally:
        await journal.close()
