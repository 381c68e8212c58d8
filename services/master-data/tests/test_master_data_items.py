"""Common items, store prices and the cached `details` through HTTP."""

from __future__ import annotations

import httpx

from kugelpos.testkit.testing import assert_error, assert_ok

from .conftest import Tenant, bearer


def item(code: str, **over) -> dict:
    body = {
        "itemCode": code,
        "description": f"Item {code}",
        "unitPrice": 120.0,
        "unitCost": 60.0,
        "itemDetails": ["detail"],
        "imageUrls": [],
        "categoryCode": "001",
        "taxCode": "01",
    }
    return body | over


async def test_item_create_read_update_delete(md: httpx.AsyncClient, tenant: Tenant) -> None:
    r = await md.post(
        f"{tenant.base}/items", json=item("I-CRUD", isDiscountRestricted=True), headers=tenant.admin
    )
    data = assert_ok(r, 201)["data"]
    assert data["itemCode"] == "I-CRUD" and data["unitPrice"] == 120.0
    assert data["isDiscountRestricted"] is True  # v1 dropped it on create
    assert data["isDeleted"] is False and data["lastUpdateDatetime"] is None
    assert len(data["entryDatetime"]) == 19

    got = assert_ok(await md.get(f"{tenant.base}/items/I-CRUD", headers=tenant.admin))["data"]
    assert got == data

    body = item("I-CRUD", unitPrice=99.5, description="Renamed")
    body.pop("itemCode")
    updated = assert_ok(
        await md.put(f"{tenant.base}/items/I-CRUD", json=body, headers=tenant.admin)
    )
    assert updated["data"]["unitPrice"] == 99.5 and updated["data"]["description"] == "Renamed"
    assert updated["data"]["isDiscountRestricted"] is False
    assert updated["data"]["lastUpdateDatetime"] is not None

    deleted = assert_ok(await md.delete(f"{tenant.base}/items/I-CRUD", headers=tenant.admin))
    assert deleted["data"] == {"itemCode": "I-CRUD", "isLogical": False}
    assert_error(await md.get(f"{tenant.base}/items/I-CRUD", headers=tenant.admin), 404, "100001")
    # Deleting what is not there is a 404, not v1's 200.
    assert_error(await md.delete(f"{tenant.base}/items/I-CRUD", headers=tenant.admin), 404)
    assert_error(await md.put(f"{tenant.base}/items/I-CRUD", json=body, headers=tenant.admin), 404)


async def test_item_duplicate_is_409(md: httpx.AsyncClient, tenant: Tenant) -> None:
    assert_ok(await md.post(f"{tenant.base}/items", json=item("I-DUP"), headers=tenant.admin), 201)
    r = await md.post(f"{tenant.base}/items", json=item("I-DUP"), headers=tenant.admin)
    assert_error(r, 409, "500005")


async def test_item_validation(md: httpx.AsyncClient, tenant: Tenant) -> None:
    url = f"{tenant.base}/items"
    for bad in (
        item("I-NEG", unitPrice=-1),
        item("I-NEGC", unitCost=-0.01),
        item("I-TAX", taxCode="99"),
        item("I/SLASH"),
        item("", description="empty code"),
        {k: v for k, v in item("I-MISS").items() if k != "description"},
        item("I-NAN", unitPrice="abc"),
    ):
        r = await md.post(url, json=bad, headers=tenant.admin)
        assert_error(r, 422)
    r = await md.get(f"{tenant.base}/items/I-NEG", headers=tenant.admin)
    assert_error(r, 404)  # nothing written on a rejected request


async def test_item_list_paginates_and_sorts(md: httpx.AsyncClient, tenant: Tenant) -> None:
    for n, price in ((1, 300), (2, 100), (3, 200)):
        body = item(f"L-{n}", unitPrice=price, categoryCode="LIST")
        assert_ok(await md.post(f"{tenant.base}/items", json=body, headers=tenant.admin), 201)
    r = await md.get(
        f"{tenant.base}/items",
        params={"limit": 2, "page": 1, "sort": "unitPrice:-1"},
        headers=tenant.admin,
    )
    body = assert_ok(r)
    assert body["data"][0]["unitPrice"] >= 300.0
    meta = body["metadata"]
    assert meta["page"] == 1 and meta["limit"] == 2 and meta["sort"] == "unit_price:-1"
    assert meta["total"] >= 3 and len(body["data"]) == 2
    prices = [i["unitPrice"] for i in body["data"]]
    assert prices == sorted(prices, reverse=True)

    page2 = assert_ok(
        await md.get(
            f"{tenant.base}/items",
            params={"limit": 1, "page": 2, "sort": "item_code:1"},
            headers=tenant.admin,
        )
    )
    first_two = assert_ok(
        await md.get(
            f"{tenant.base}/items", params={"limit": 2, "sort": "item_code:1"}, headers=tenant.admin
        )
    )
    assert page2["data"][0] == first_two["data"][1]

    default = assert_ok(await md.get(f"{tenant.base}/items", headers=tenant.admin))
    codes = [i["itemCode"] for i in default["data"]]
    assert codes == sorted(codes) and default["metadata"]["sort"] == "item_code:1"

    for bad in ("unitPrice:2", "item_code:asc", "$where:1", "hashed_secret:1"):
        r = await md.get(f"{tenant.base}/items", params={"sort": bad}, headers=tenant.admin)
        assert_error(r, 400, "300003")
    assert_error(
        await md.get(f"{tenant.base}/items", params={"limit": -1}, headers=tenant.admin), 422
    )


async def test_logical_delete(md: httpx.AsyncClient, tenant: Tenant) -> None:
    url = f"{tenant.base}/items"
    assert_ok(await md.post(url, json=item("I-LOG"), headers=tenant.admin), 201)
    r = await md.delete(f"{url}/I-LOG", params={"is_logical": "true"}, headers=tenant.admin)
    assert assert_ok(r)["data"] == {"itemCode": "I-LOG", "isLogical": True}
    assert_error(await md.get(f"{url}/I-LOG", headers=tenant.admin), 404)
    found = await md.get(
        f"{url}/I-LOG", params={"is_logical_deleted": "true"}, headers=tenant.admin
    )
    assert assert_ok(found)["data"]["isDeleted"] is True
    # Logically deleted twice: 404; re-creating the code: 409 saying why.
    r = await md.delete(f"{url}/I-LOG", params={"is_logical": "true"}, headers=tenant.admin)
    assert_error(r, 404)
    dup = assert_error(await md.post(url, json=item("I-LOG"), headers=tenant.admin), 409)
    assert "logically deleted" in dup["message"]
    # Physical delete removes it whatever its state.
    assert_ok(await md.delete(f"{url}/I-LOG", headers=tenant.admin))
    assert_ok(await md.post(url, json=item("I-LOG"), headers=tenant.admin), 201)


async def test_store_prices_and_details(md: httpx.AsyncClient, tenant: Tenant) -> None:
    stores = f"{tenant.base}/stores/S1/items"
    # A store price needs an active common item.
    r = await md.post(stores, json={"itemCode": "SP-1", "storePrice": 90}, headers=tenant.admin)
    assert_error(r, 404)
    assert_ok(await md.post(f"{tenant.base}/items", json=item("SP-1"), headers=tenant.admin), 201)

    details = assert_ok(await md.get(f"{stores}/SP-1/details", headers=await tenant.till()))["data"]
    assert details["storePrice"] is None and details["unitPrice"] == 120.0

    created = await md.post(
        stores, json={"itemCode": "SP-1", "storePrice": 90}, headers=tenant.admin
    )
    assert assert_ok(created, 201)["data"]["storePrice"] == 90.0
    r = await md.post(stores, json={"itemCode": "SP-1", "storePrice": 95}, headers=tenant.admin)
    assert_error(r, 409)
    r = await md.post(stores, json={"itemCode": "SP-1", "storePrice": -5}, headers=tenant.admin)
    assert_error(r, 422)

    details = assert_ok(await md.get(f"{stores}/SP-1/details", headers=await tenant.till()))["data"]
    assert details["storePrice"] == 90.0 and details["unitPrice"] == 120.0
    assert details["isDeleted"] is False and details["taxCode"] == "01"

    got = assert_ok(await md.get(f"{stores}/SP-1", headers=tenant.admin))["data"]
    assert got["itemCode"] == "SP-1" and got["storePrice"] == 90.0
    listed = assert_ok(
        await md.get(stores, params={"sort": "store_price:-1"}, headers=tenant.admin)
    )
    assert [i["itemCode"] for i in listed["data"]] == ["SP-1"]
    assert listed["metadata"]["filter"] == {"tenant_id": tenant.tenant_id, "store_code": "S1"}
    # Another store has no price for it.
    other = assert_ok(
        await md.get(f"{tenant.base}/stores/S2/items/SP-1/details", headers=tenant.admin)
    )
    assert other["data"]["storePrice"] is None

    r = await md.put(f"{stores}/SP-1", json={"storePrice": 80}, headers=tenant.admin)
    assert assert_ok(r)["data"]["storePrice"] == 80.0
    assert_error(await md.put(f"{stores}/NOPE", json={"storePrice": 1}, headers=tenant.admin), 404)

    r = await md.delete(f"{stores}/SP-1", headers=tenant.admin)
    assert assert_ok(r)["data"] == {"itemCode": "SP-1"}
    assert_error(await md.delete(f"{stores}/SP-1", headers=tenant.admin), 404)
    assert_error(await md.get(f"{stores}/SP-1", headers=tenant.admin), 404)
    assert_error(await md.get(f"{stores}/NOPE/details", headers=tenant.admin), 404)


async def test_price_change_is_seen_by_the_next_read(md: httpx.AsyncClient, tenant: Tenant) -> None:
    """The hot path is cached; every write invalidates, so the next sale sees the new price."""
    stores = f"{tenant.base}/stores/S9/items"
    terminal = await tenant.till("S9")
    assert_ok(await md.post(f"{tenant.base}/items", json=item("HOT-1"), headers=tenant.admin), 201)
    assert_ok(
        await md.post(stores, json={"itemCode": "HOT-1", "storePrice": 100}, headers=tenant.admin),
        201,
    )
    for _ in range(3):  # warm the cache
        d = assert_ok(await md.get(f"{stores}/HOT-1/details", headers=terminal))["data"]
        assert d["storePrice"] == 100.0

    assert_ok(await md.put(f"{stores}/HOT-1", json={"storePrice": 77}, headers=tenant.admin))
    d = assert_ok(await md.get(f"{stores}/HOT-1/details", headers=terminal))["data"]
    assert d["storePrice"] == 77.0

    body = item("HOT-1", unitPrice=150, description="Hot tea")
    body.pop("itemCode")
    assert_ok(await md.put(f"{tenant.base}/items/HOT-1", json=body, headers=tenant.admin))
    d = assert_ok(await md.get(f"{stores}/HOT-1/details", headers=terminal))["data"]
    assert d["unitPrice"] == 150.0 and d["description"] == "Hot tea" and d["storePrice"] == 77.0
    got = assert_ok(await md.get(f"{tenant.base}/items/HOT-1", headers=terminal))["data"]
    assert got["unitPrice"] == 150.0

    assert_ok(await md.delete(f"{stores}/HOT-1", headers=tenant.admin))
    d = assert_ok(await md.get(f"{stores}/HOT-1/details", headers=terminal))["data"]
    assert d["storePrice"] is None

    r = await md.delete(
        f"{tenant.base}/items/HOT-1", params={"is_logical": True}, headers=tenant.admin
    )
    assert_ok(r)
    assert_error(await md.get(f"{stores}/HOT-1/details", headers=terminal), 404)
    assert_error(await md.get(f"{tenant.base}/items/HOT-1", headers=terminal), 404)


async def test_decimal_prices_round_trip(md: httpx.AsyncClient, tenant: Tenant) -> None:
    body = item("DEC-1", unitPrice=0.1, unitCost=1234567.891)
    data = assert_ok(await md.post(f"{tenant.base}/items", json=body, headers=tenant.admin), 201)
    assert data["data"]["unitPrice"] == 0.1 and data["data"]["unitCost"] == 1234567.891
    got = assert_ok(await md.get(f"{tenant.base}/items/DEC-1", headers=tenant.admin))["data"]
    assert got["unitPrice"] == 0.1 and got["unitCost"] == 1234567.891


async def test_items_are_looked_up_by_codes_or_by_categories_in_one_call(
    md: httpx.AsyncClient, tenant: Tenant
) -> None:
    """`POST /items/lookup` (beyond v1; stock checks a request's items with it)."""
    for code, category in (("LK-1", "LK-A"), ("LK-2", "LK-A"), ("LK-3", "LK-B"), ("LK-4", "LK-A")):
        body = item(code, categoryCode=category)
        assert_ok(await md.post(f"{tenant.base}/items", json=body, headers=tenant.admin), 201)
    # A logically deleted item is no item for a lookup.
    assert_ok(await md.delete(f"{tenant.base}/items/LK-4?is_logical=true", headers=tenant.admin))
    url = f"{tenant.base}/items/lookup"

    by_codes = assert_ok(
        await md.post(
            url, json={"itemCodes": ["LK-3", "nope", "LK-1", "LK-4", "LK-1"]}, headers=tenant.admin
        )
    )["data"]
    assert [(x["itemCode"], x["categoryCode"]) for x in by_codes["items"]] == [
        ("LK-1", "LK-A"),
        ("LK-3", "LK-B"),
    ]
    assert by_codes["unknownItemCodes"] == ["LK-4", "nope"] and by_codes["more"] is False

    by_category = assert_ok(
        await md.post(url, json={"categoryCodes": ["LK-A", "LK-Z"]}, headers=tenant.service)
    )["data"]
    assert [x["itemCode"] for x in by_category["items"]] == ["LK-1", "LK-2"]
    assert by_category["unknownItemCodes"] == [] and by_category["more"] is False

    # The back office, a till and a service read; a clerk's token (it writes nothing, and
    # this is a POST) and another tenant's token do not.
    till = await tenant.till()
    assert_ok(await md.post(url, json={"itemCodes": ["LK-2"]}, headers=till))
    assert_ok(await md.post(url, json={"itemCodes": ["LK-2"]}, headers=tenant.manager))
    assert_error(await md.post(url, json={"itemCodes": ["LK-2"]}, headers=tenant.user()), 403)
    other = bearer(
        tenant.codec.issue_service_token(service="stock", tenant_id=tenant.tenant_id + "X")
    )
    assert_error(await md.post(url, json={"itemCodes": ["LK-2"]}, headers=other), 403)
    # One kind of lookup, within bounds.
    for bad in (
        {},
        {"itemCodes": ["LK-1"], "categoryCodes": ["LK-A"]},
        {"itemCodes": []},
        {"itemCodes": ["x"] * 10_001},
        {"categoryCodes": ["c"] * 101},
    ):
        assert_error(await md.post(url, json=bad, headers=tenant.admin), 422)
