"""Categories, payments and taxes through HTTP."""

from __future__ import annotations

import httpx

from kugelpos.testkit.testing import assert_error, assert_ok

from .conftest import Tenant


def category(code: str, **over) -> dict:
    return {
        "categoryCode": code,
        "description": f"Category {code}",
        "descriptionShort": code,
        "taxCode": "01",
    } | over


def payment(code: str, **over) -> dict:
    return {
        "paymentCode": code,
        "description": f"Payment {code}",
        "limitAmount": 100000,
        "canRefund": False,
        "canDepositOver": False,
        "canChange": False,
        "isActive": True,
    } | over


async def test_category_crud(md: httpx.AsyncClient, tenant: Tenant) -> None:
    url = f"{tenant.base}/categories"
    data = assert_ok(await md.post(url, json=category("C-1"), headers=tenant.admin), 201)["data"]
    assert data["categoryCode"] == "C-1" and data["taxCode"] == "01"
    assert_error(await md.post(url, json=category("C-1"), headers=tenant.admin), 409, "500005")
    assert_error(await md.post(url, json=category("C-X", taxCode="77"), headers=tenant.admin), 422)
    assert_error(
        await md.post(url, json={"categoryCode": "C-Y"}, headers=tenant.admin), 422, "300002"
    )

    got = assert_ok(await md.get(f"{url}/C-1", headers=await tenant.till()))["data"]
    assert got == data
    update = {"description": "Drinks", "descriptionShort": "DR", "taxCode": "11"}
    updated = assert_ok(await md.put(f"{url}/C-1", json=update, headers=tenant.admin))["data"]
    assert updated["description"] == "Drinks" and updated["taxCode"] == "11"
    assert_error(await md.put(f"{url}/C-404", json=update, headers=tenant.admin), 404)

    assert assert_ok(await md.delete(f"{url}/C-1", headers=tenant.admin))["data"] == {
        "categoryCode": "C-1"
    }
    assert_error(await md.delete(f"{url}/C-1", headers=tenant.admin), 404)
    assert_error(await md.get(f"{url}/C-1", headers=tenant.admin), 404)


async def test_category_list(md: httpx.AsyncClient, tenant: Tenant) -> None:
    url = f"{tenant.base}/categories"
    for code, text in (("CL-3", "a"), ("CL-1", "c"), ("CL-2", "b")):
        body = category(code, description=text)
        assert_ok(await md.post(url, json=body, headers=tenant.admin), 201)
    body = assert_ok(await md.get(url, headers=tenant.admin))
    codes = [c["categoryCode"] for c in body["data"]]
    assert codes == sorted(codes)
    assert body["metadata"]["sort"] == "category_code:1"
    assert body["metadata"]["filter"] == {"tenant_id": tenant.tenant_id}
    by_text = assert_ok(
        await md.get(url, params={"sort": "description:-1", "limit": 1}, headers=tenant.admin)
    )
    assert by_text["data"][0]["description"] == "c" and len(by_text["data"]) == 1


async def test_payment_crud_and_list(md: httpx.AsyncClient, tenant: Tenant) -> None:
    url = f"{tenant.base}/payments"
    cash = payment("01", description="Cash", limitAmount=0, canRefund=True, canDepositOver=True)
    data = assert_ok(await md.post(url, json=cash | {"canChange": True}, headers=tenant.admin), 201)
    assert data["data"]["limitAmount"] == 0.0 and data["data"]["canChange"] is True
    assert_ok(await md.post(url, json=payment("11"), headers=tenant.admin), 201)
    assert_ok(await md.post(url, json=payment("12"), headers=tenant.admin), 201)
    assert_error(await md.post(url, json=payment("11"), headers=tenant.admin), 409)
    assert_error(await md.post(url, json=payment("13", limitAmount=-1), headers=tenant.admin), 422)
    missing = {k: v for k, v in payment("14").items() if k != "canRefund"}
    assert_error(await md.post(url, json=missing, headers=tenant.admin), 422)

    # Cached lookups see every change.
    assert (
        assert_ok(await md.get(f"{url}/11", headers=await tenant.till()))["data"]["limitAmount"]
        == 100000.0
    )
    update = {k: v for k, v in payment("11", limitAmount=5000).items() if k != "paymentCode"}
    assert_ok(await md.put(f"{url}/11", json=update, headers=tenant.admin))
    assert (
        assert_ok(await md.get(f"{url}/11", headers=await tenant.till()))["data"]["limitAmount"]
        == 5000.0
    )

    listed = assert_ok(await md.get(url, params={"sort": "payment_code:-1"}, headers=tenant.admin))
    assert [p["paymentCode"] for p in listed["data"]] == ["12", "11", "01"]
    page = assert_ok(await md.get(url, params={"limit": 1, "page": 3}, headers=tenant.admin))
    assert [p["paymentCode"] for p in page["data"]] == ["12"] and page["metadata"]["total"] == 3

    assert assert_ok(await md.delete(f"{url}/12", headers=tenant.admin))["data"] == {
        "paymentCode": "12"
    }
    assert_error(await md.get(f"{url}/12", headers=await tenant.till()), 404)
    assert_error(await md.delete(f"{url}/12", headers=tenant.admin), 404)
    assert_error(await md.put(f"{url}/12", json=update, headers=tenant.admin), 404)


async def test_taxes_default_master(md: httpx.AsyncClient, tenant: Tenant) -> None:
    body = assert_ok(await md.get(f"{tenant.base}/taxes", headers=await tenant.till()))
    assert [t["taxCode"] for t in body["data"]] == ["00", "01", "02", "11", "12"]
    assert body["metadata"]["total"] == 5
    t01 = assert_ok(await md.get(f"{tenant.base}/taxes/01", headers=tenant.admin))["data"]
    assert t01 == {
        "taxCode": "01",
        "taxType": "External",
        "taxName": "外税10%",
        "rate": 10.0,
        "roundDigit": -1,
        "roundMethod": "Floor",
        "entryDatetime": None,
        "lastUpdateDatetime": None,
    }
    t00 = assert_ok(await md.get(f"{tenant.base}/taxes/00", headers=tenant.admin))["data"]
    assert t00["taxType"] == "Exempt" and t00["rate"] == 0.0 and t00["roundMethod"] is None
    assert_error(await md.get(f"{tenant.base}/taxes/99", headers=tenant.admin), 404)

    by_rate = assert_ok(
        await md.get(
            f"{tenant.base}/taxes",
            params={"sort": "rate:-1,tax_code:1", "limit": 2, "page": 1},
            headers=tenant.admin,
        )
    )
    assert [t["taxCode"] for t in by_rate["data"]] == ["01", "02"]
    assert by_rate["metadata"]["total"] == 5
    assert_error(
        await md.get(f"{tenant.base}/taxes", params={"sort": "bogus:1"}, headers=tenant.admin), 400
    )
    # Read-only: no writes exist.
    r = await md.post(f"{tenant.base}/taxes", json={}, headers=tenant.admin)
    assert r.status_code == 405
