"""Back-office requests name items of the tenant's item master (master-data, asked once per
request); counts by category take their items from it. Sales are never checked."""

from __future__ import annotations

import httpx

from kugelpos.common.auth.tokens import TokenCodec
from kugelpos.common.clients.http import HttpClientHelper
from kugelpos.common.clients.services import ServiceCaller
from kugelpos.devstack.stack import Stack
from kugelpos.stock.errors import UnknownItemsError
from kugelpos.stock.items import ItemMaster
from kugelpos.testkit.testing import assert_error, assert_ok

from .conftest import Tenant, new_store, quantity, tranlog

UNKNOWN = "414701"


def _lines(*codes: str, **fields) -> list[dict]:
    return [{"itemCode": c, **fields} for c in codes]


async def _listed(client: httpx.AsyncClient, tenant: Tenant, url: str, **params) -> int:
    r = await client.get(url, params=params, headers=tenant.admin)
    return assert_ok(r)["data"]["metadata"]["total"]


async def test_unknown_items_are_refused_and_nothing_is_written(
    stack: Stack, client: httpx.AsyncClient, tenant: Tenant
) -> None:
    store, other = new_store(), new_store()
    await tenant.know("K1", "K2", "GONE")
    async with httpx.AsyncClient(base_url=stack.url("master-data"), timeout=30) as md:
        # A logically deleted item is no item of the master.
        r = await md.delete(f"{tenant.base}/items/GONE?is_logical=true", headers=tenant.admin)
        assert_ok(r)
    admin = tenant.admin

    for bad in (["K1", "NOPE"], ["GONE"]):
        # A batch adjustment: one unknown line refuses the batch.
        body = {"lines": _lines(*bad, quantityChange=5, reason="found")}
        r = await client.post(tenant.stock(store, "/adjustments"), json=body, headers=admin)
        refused = assert_error(r, 400, UNKNOWN)
        assert bad[-1] in refused["message"]
        # A receipt.
        body = {
            "supplier": "S",
            "reference": f"R-{bad}",
            "lines": _lines(*bad, quantity=2, unitCost=1),
        }
        assert_error(
            await client.post(tenant.stock(store, "/receipts"), json=body, headers=admin),
            400,
            UNKNOWN,
        )
        # A transfer.
        body = {"fromStore": store, "toStore": other, "lines": _lines(*bad, quantity=1)}
        r = await client.post(f"{tenant.base}/stock/transfers", json=body, headers=admin)
        assert_error(r, 400, UNKNOWN)
        # A count by items.
        r = await client.post(
            tenant.stock(store, "/counts"), json={"itemCodes": bad}, headers=admin
        )
        assert_error(r, 400, UNKNOWN)
    # Nothing written: no row, no receipt, no transfer, no count.
    for code in ("K1", "NOPE", "GONE"):
        assert await quantity(client, tenant, store, code) is None
    assert await _listed(client, tenant, tenant.stock(store, "/receipts")) == 0
    assert await _listed(client, tenant, f"{tenant.base}/stock/transfers", store=store) == 0
    assert await _listed(client, tenant, tenant.stock(store, "/counts")) == 0

    # A whole-store count's lines: an entry naming an unknown item stores none of its lines.
    count = assert_ok(
        await client.post(tenant.stock(store, "/counts"), json={}, headers=admin), 201
    )
    lines_url = tenant.stock(store, f"/counts/{count['data']['countId']}/lines")
    entry = _lines("K1", "NOPE", zone="z", countedQuantity=3)
    assert_error(await client.put(lines_url, json=entry, headers=admin), 400, UNKNOWN)
    view = await client.get(
        tenant.stock(store, f"/counts/{count['data']['countId']}"), headers=admin
    )
    assert assert_ok(view)["data"]["items"] == []
    assert_ok(await client.put(lines_url, json=entry[:1], headers=admin))

    # Known items pass everywhere.
    body = {"lines": _lines("K1", "K2", quantityChange=5, reason="found")}
    assert_ok(await client.post(tenant.stock(store, "/adjustments"), json=body, headers=admin), 201)

    # A sale is never checked: the till sold it, the stock follows.
    log = tranlog(tenant.tenant_id, store, [("NOPE", 1)])
    r = await client.post(
        "/api/v1/tranlog",
        json={"specversion": "1.0", "id": log["event_id"], "data": log},
        headers={"dapr-api-token": stack.app_token},
    )
    assert r.status_code == 200 and r.json()["status"] == "SUCCESS", r.text
    assert await quantity(client, tenant, store, "NOPE") == -1


async def test_a_count_by_categories_covers_their_active_items(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    store = new_store()
    await tenant.know("CA-1", "CA-2", category="CAT-A")
    await tenant.know("CB-1", category="CAT-B")
    opened = await client.post(
        tenant.stock(store, "/counts"), json={"categoryCodes": ["CAT-A"]}, headers=tenant.admin
    )
    count = assert_ok(opened, 201)["data"]
    assert count["itemCodes"] == ["CA-1", "CA-2"]
    assert [i["itemCode"] for i in count["items"]] == ["CA-1", "CA-2"]  # uncounted yet
    url = tenant.stock(store, f"/counts/{count['countId']}/lines")
    counted = _lines("CA-1", zone="z", countedQuantity=4)
    assert_ok(await client.put(url, json=counted, headers=tenant.admin))
    other = _lines("CB-1", zone="z", countedQuantity=1)
    assert_error(await client.put(url, json=other, headers=tenant.admin), 400, "414504")
    posted = await client.post(
        tenant.stock(store, f"/counts/{count['countId']}/post"), headers=tenant.admin
    )
    assert assert_ok(posted)["data"]["status"] == "posted"
    assert await quantity(client, tenant, store, "CA-1") == 4

    # Categories without an active item: refused, no count opened.
    for bad in (["CAT-EMPTY"], ["NONE-1", "NONE-2"]):
        r = await client.post(
            tenant.stock(store, "/counts"), json={"categoryCodes": bad}, headers=tenant.admin
        )
        assert_error(r, 400, "414505")
    r = await client.post(
        tenant.stock(store, "/counts"),
        json={"categoryCodes": ["CAT-A"], "itemCodes": ["CA-1"]},
        headers=tenant.admin,
    )
    assert_error(r, 422)
    assert await _listed(client, tenant, tenant.stock(store, "/counts")) == 1


async def test_a_request_asks_master_data_once_whatever_its_lines() -> None:
    """Unit: 1,000 codes (some repeated) are one lookup call, and its answer decides."""
    sent: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        unknown = ["X0999"] if b"X0999" in request.content else []
        return httpx.Response(
            200, json={"success": True, "data": {"items": [], "unknownItemCodes": unknown}}
        )

    http = HttpClientHelper(transport=httpx.MockTransport(handler))
    items = ItemMaster(
        ServiceCaller(http, TokenCodec("k" * 40), service="stock"), "http://md/api/v1"
    )
    await items.require("T1", [f"X{n:04d}" for n in range(999)] * 2)
    try:
        await items.require("T1", [f"X{n:04d}" for n in range(1000)])
    except UnknownItemsError as exc:
        assert "X0999" in exc.message
    else:
        raise AssertionError("an unknown item passed")
    assert len(sent) == 2
    assert [r.url.path for r in sent] == ["/api/v1/tenants/T1/items/lookup"] * 2
