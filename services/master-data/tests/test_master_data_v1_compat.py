"""Issue 8, v1 compatibility: prices, costs and limits sent as whole floats are the same
amounts as ints; finer than the 6 decimals an amount may have is a 400 that writes nothing;
error bodies carry `user_error`."""

from __future__ import annotations

import httpx

from kugelpos.testkit.testing import assert_error, assert_ok

from .conftest import Tenant
from .test_master_data_catalog import payment
from .test_master_data_items import item

TOO_FINE = 120.0000001  # a seventh decimal


async def test_item_prices_as_whole_floats(md: httpx.AsyncClient, tenant: Tenant) -> None:
    url = f"{tenant.base}/items"
    body = item("V1-ITEM", unitPrice=120.0, unitCost=80.0)
    data = assert_ok(await md.post(url, json=body, headers=tenant.admin), 201)["data"]
    assert (data["unitPrice"], data["unitCost"]) == (120, 80)
    update = {k: v for k, v in item("V1-ITEM", unitPrice=130.0).items() if k != "itemCode"}
    r = await md.put(f"{url}/V1-ITEM", json=update, headers=tenant.admin)
    assert assert_ok(r)["data"]["unitPrice"] == 130


async def test_store_prices_as_whole_floats(md: httpx.AsyncClient, tenant: Tenant) -> None:
    assert_ok(await md.post(f"{tenant.base}/items", json=item("V1-SP"), headers=tenant.admin), 201)
    stores = f"{tenant.base}/stores/S1/items"
    body = {"itemCode": "V1-SP", "storePrice": 90.0}
    assert (
        assert_ok(await md.post(stores, json=body, headers=tenant.admin), 201)["data"]["storePrice"]
        == 90
    )
    r = await md.put(f"{stores}/V1-SP", json={"storePrice": 95.0}, headers=tenant.admin)
    assert assert_ok(r)["data"]["storePrice"] == 95


async def test_payment_limits_as_whole_floats(md: httpx.AsyncClient, tenant: Tenant) -> None:
    url = f"{tenant.base}/payments"
    r = await md.post(url, json=payment("V1", limitAmount=50000.0), headers=tenant.admin)
    assert assert_ok(r, 201)["data"]["limitAmount"] == 50000
    update = {k: v for k, v in payment("V1", limitAmount=60000.0).items() if k != "paymentCode"}
    r = await md.put(f"{url}/V1", json=update, headers=tenant.admin)
    assert assert_ok(r)["data"]["limitAmount"] == 60000


async def test_amounts_finer_than_six_decimals_are_a_400(
    md: httpx.AsyncClient, tenant: Tenant
) -> None:
    base = tenant.base
    for field in ("unitPrice", "unitCost"):
        r = await md.post(
            f"{base}/items", json=item("V1-FINE", **{field: TOO_FINE}), headers=tenant.admin
        )
        body = assert_error(r, 400, "300001")
        assert field in body["message"] and "smallest currency unit" in body["message"]
        assert body["user_error"] == body["userError"]
    assert_error(await md.get(f"{base}/items/V1-FINE", headers=tenant.admin), 404)
    r = await md.post(
        f"{base}/payments", json=payment("V1F", limitAmount=TOO_FINE), headers=tenant.admin
    )
    assert_error(r, 400, "300001")
    assert_error(await md.get(f"{base}/payments/V1F", headers=tenant.admin), 404)
    assert_ok(await md.post(f"{base}/items", json=item("V1-SP2"), headers=tenant.admin), 201)
    body = {"itemCode": "V1-SP2", "storePrice": TOO_FINE}
    r = await md.post(f"{base}/stores/S1/items", json=body, headers=tenant.admin)
    assert_error(r, 400, "300001")
    # A malformed amount stays a 422, as before.
    r = await md.post(f"{base}/items", json=item("V1-BAD", unitPrice="abc"), headers=tenant.admin)
    assert_error(r, 422)
