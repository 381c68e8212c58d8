"""Promotions: validation, soft delete, and the active selection."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import httpx

from kugelpos.testkit.testing import assert_error, assert_ok

from .conftest import Tenant

NOW = datetime.now(UTC)


def iso(delta_days: float) -> str:
    return (NOW + timedelta(days=delta_days)).isoformat()


def promo(code: str, **over) -> dict:
    return {
        "promotionCode": code,
        "promotionType": "category_discount",
        "name": f"Promo {code}",
        "startDatetime": iso(-1),
        "endDatetime": iso(1),
        "detail": {"targetStoreCodes": [], "targetCategoryCodes": ["DRINK"], "discountRate": 10},
    } | over


async def test_promotion_crud(md: httpx.AsyncClient, tenant: Tenant) -> None:
    url = f"{tenant.base}/promotions"
    data = assert_ok(await md.post(url, json=promo("PR-1"), headers=tenant.admin), 201)["data"]
    assert data["isActive"] is True and data["detail"]["discountRate"] == 10.0
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}", data["startDatetime"])
    assert_error(await md.post(url, json=promo("PR-1"), headers=tenant.admin), 409)

    for bad in (
        promo("PR-X", endDatetime=iso(-2)),
        promo("PR-X", detail=None),
        promo("PR-X", detail={"targetCategoryCodes": [], "discountRate": 10}),
        promo("PR-X", detail={"targetCategoryCodes": ["A"], "discountRate": 0}),
        promo("PR-X", detail={"targetCategoryCodes": ["A"], "discountRate": 100.5}),
        promo("PR-X", startDatetime="not a date"),
    ):
        assert_error(await md.post(url, json=bad, headers=tenant.admin), 422)

    got = assert_ok(await md.get(f"{url}/PR-1", headers=await tenant.till()))["data"]
    assert got == data
    r = await md.put(
        f"{url}/PR-1", json={"name": "Renamed", "isActive": False}, headers=tenant.admin
    )
    updated = assert_ok(r)["data"]
    assert updated["name"] == "Renamed" and updated["isActive"] is False
    assert updated["detail"] == data["detail"]
    r = await md.put(f"{url}/PR-1", json={"endDatetime": iso(-3)}, headers=tenant.admin)
    assert_error(r, 422)  # checked against the merged start

    assert_ok(await md.delete(f"{url}/PR-1", headers=tenant.admin))
    assert_error(await md.get(f"{url}/PR-1", headers=tenant.admin), 404)
    assert_error(await md.put(f"{url}/PR-1", json={"name": "x"}, headers=tenant.admin), 404)
    assert_error(await md.delete(f"{url}/PR-1", headers=tenant.admin), 404)
    assert_error(await md.post(url, json=promo("PR-1"), headers=tenant.admin), 409)


async def test_list_and_active_selection(md: httpx.AsyncClient, other_tenant: Tenant) -> None:
    tenant = other_tenant
    url = f"{tenant.base}/promotions"
    bodies = [
        promo("A-ALL"),
        promo(
            "B-S1",
            detail={"targetStoreCodes": ["S1"], "targetCategoryCodes": ["FOOD"], "discountRate": 5},
        ),
        promo("C-OFF", isActive=False),
        promo("D-FUTURE", startDatetime=iso(2), endDatetime=iso(3)),
        promo("E-OTHER", promotionType="bundle", detail=None),
    ]
    for body in bodies:
        assert_ok(await md.post(url, json=body, headers=tenant.admin), 201)

    listed = assert_ok(await md.get(url, headers=tenant.admin))
    assert listed["metadata"]["limit"] == 20 and listed["metadata"]["total"] == 5
    assert listed["metadata"]["filter"]["is_deleted"] is False
    filtered = assert_ok(
        await md.get(
            url,
            params={"isActive": "false", "promotionType": "category_discount"},
            headers=tenant.admin,
        )
    )
    assert [p["promotionCode"] for p in filtered["data"]] == ["C-OFF"]
    paged = assert_ok(
        await md.get(
            url, params={"limit": 2, "page": 2, "sort": "promotion_code:-1"}, headers=tenant.admin
        )
    )
    assert [p["promotionCode"] for p in paged["data"]] == ["C-OFF", "B-S1"]

    async def active(**params) -> list[str]:
        r = await md.get(f"{url}/active", params=params, headers=await tenant.till())
        body = assert_ok(r)
        assert body["metadata"] is None
        return [p["promotionCode"] for p in body["data"]]

    assert await active() == ["A-ALL", "B-S1", "E-OTHER"]
    assert await active(storeCode="S1") == ["A-ALL", "B-S1"]
    assert await active(storeCode="S2") == ["A-ALL"]
    assert await active(categoryCode="FOOD") == ["B-S1"]
    assert await active(storeCode="S2", categoryCode="FOOD") == []
    assert await active(promotionType="bundle") == ["E-OTHER"]
