"""Item books: nested create, sub-element add / update / delete that change exactly the
addressed element (the v1 defects), the priced detail view."""

from __future__ import annotations

import re

import httpx

from kugelpos.testkit.testing import assert_error, assert_ok

from .conftest import Tenant


def button(x: int, y: int, code: str = "IB-ITEM", **over) -> dict:
    return {
        "posX": x,
        "posY": y,
        "size": "Single",
        "imageUrl": "",
        "colorText": "0x000000",
        "itemCode": code,
    } | over


def tab(number: int, buttons: list | None = None) -> dict:
    return {"tabNumber": number, "title": f"Tab {number}", "color": "0xF0FFFF"} | (
        {"buttons": buttons} if buttons is not None else {}
    )


def category(number: int, tabs: list | None = None) -> dict:
    return {"categoryNumber": number, "title": f"Cat {number}", "color": "0xF0FFFF"} | (
        {"tabs": tabs} if tabs is not None else {}
    )


async def new_book(md: httpx.AsyncClient, tenant: Tenant, categories: list | None = None) -> dict:
    body = {"title": "Book", "categories": categories or []}
    return assert_ok(
        await md.post(f"{tenant.base}/item_books", json=body, headers=tenant.admin), 201
    )["data"]


async def test_create_nested_and_read(md: httpx.AsyncClient, tenant: Tenant) -> None:
    grid = [button(x, y) for x in range(3) for y in range(3)]
    book = await new_book(md, tenant, [category(1, [tab(1, grid), tab(2)]), category(2)])
    assert re.fullmatch(r"\d{8}-\d{4}", book["itemBookId"])
    assert len(book["categories"][0]["tabs"][0]["buttons"]) == 9
    assert book["categories"][1]["tabs"] == []
    url = f"{tenant.base}/item_books/{book['itemBookId']}"
    got = assert_ok(await md.get(url, params={"store_code": "S1"}, headers=await tenant.till()))
    assert got["data"] == book
    button_out = got["data"]["categories"][0]["tabs"][0]["buttons"][0]
    assert button_out["unitPrice"] is None and button_out["description"] is None

    second = await new_book(md, tenant)
    assert second["itemBookId"] > book["itemBookId"]
    assert second["itemBookId"][:8] == book["itemBookId"][:8]

    bad = [category(1), category(1)]
    r = await md.post(
        f"{tenant.base}/item_books", json={"title": "Dup", "categories": bad}, headers=tenant.admin
    )
    assert_error(r, 422)
    r = await md.post(
        f"{tenant.base}/item_books",
        json={"title": "Pos", "categories": [category(1, [tab(1, [button(0, 0), button(0, 0)])])]},
        headers=tenant.admin,
    )
    assert_error(r, 422)
    assert_error(await md.get(f"{tenant.base}/item_books/NOPE", headers=tenant.admin), 404)


async def test_sub_elements(md: httpx.AsyncClient, tenant: Tenant) -> None:
    book = await new_book(md, tenant)
    url = f"{tenant.base}/item_books/{book['itemBookId']}"
    h = tenant.admin

    # categories
    assert_ok(await md.post(f"{url}/categories", json=category(1), headers=h), 201)
    assert_ok(await md.post(f"{url}/categories", json=category(2), headers=h), 201)
    assert_error(await md.post(f"{url}/categories", json=category(1), headers=h), 409)
    r = await md.put(f"{url}/categories/1", json=category(2), headers=h)
    assert_error(r, 409)  # target number taken by a sibling
    r = await md.put(f"{url}/categories/1", json=category(0) | {"title": "Zero"}, headers=h)
    data = assert_ok(r)["data"]  # v1 could not set 0 (truthiness) nor find the category at all
    assert [c["categoryNumber"] for c in data["categories"]] == [0, 2]
    assert data["categories"][0]["title"] == "Zero"
    assert_error(await md.put(f"{url}/categories/7", json=category(7), headers=h), 404)

    # tabs
    tabs = f"{url}/categories/0/tabs"
    assert_ok(await md.post(tabs, json=tab(1), headers=h), 201)
    assert_ok(await md.post(tabs, json=tab(2), headers=h), 201)
    assert_error(await md.post(tabs, json=tab(2), headers=h), 409)
    assert_error(await md.post(f"{url}/categories/9/tabs", json=tab(1), headers=h), 404)
    assert_error(await md.put(f"{tabs}/1", json=tab(2), headers=h), 409)

    # buttons
    buttons = f"{tabs}/1/buttons"
    for x in range(2):
        for y in range(2):
            assert_ok(await md.post(buttons, json=button(x, y), headers=h), 201)
    assert_error(await md.post(buttons, json=button(1, 1), headers=h), 409)
    r = await md.put(f"{buttons}/pos_x/0/pos_y/0", json=button(1, 1), headers=h)
    assert_error(r, 409)
    r = await md.put(
        f"{buttons}/pos_x/0/pos_y/0", json=button(5, 0, size="Quad", itemCode="OTHER"), headers=h
    )
    moved = assert_ok(r)["data"]["categories"][0]["tabs"][0]["buttons"]
    assert {(b["posX"], b["posY"]) for b in moved} == {(5, 0), (0, 1), (1, 0), (1, 1)}
    assert next(b for b in moved if b["posX"] == 5)["size"] == "Quad"
    assert_error(await md.put(f"{buttons}/pos_x/9/pos_y/9", json=button(9, 9), headers=h), 404)

    # A tab update without `buttons` keeps them; with an explicit list it replaces them.
    kept = assert_ok(await md.put(f"{tabs}/1", json=tab(1) | {"title": "Renamed"}, headers=h))
    t1 = kept["data"]["categories"][0]["tabs"][0]
    assert t1["title"] == "Renamed" and len(t1["buttons"]) == 4

    # Deleting a button removes exactly that position (v1 wiped its row and column).
    r = await md.delete(f"{buttons}/pos_x/1/pos_y/1", headers=h)
    assert assert_ok(r)["data"] == {
        "itemBookId": book["itemBookId"],
        "categoryNumber": 0,
        "tabNumber": 1,
        "posX": 1,
        "posY": 1,
    }
    left = assert_ok(await md.get(url, headers=h))["data"]["categories"][0]["tabs"][0]["buttons"]
    assert {(b["posX"], b["posY"]) for b in left} == {(5, 0), (0, 1), (1, 0)}
    assert_error(await md.delete(f"{buttons}/pos_x/1/pos_y/1", headers=h), 404)

    r = await md.delete(f"{tabs}/2", headers=h)
    assert assert_ok(r)["data"] == {
        "itemBookId": book["itemBookId"],
        "categoryNumber": 0,
        "tabNumber": 2,
    }
    assert_error(await md.delete(f"{tabs}/2", headers=h), 404)

    replaced = assert_ok(await md.put(f"{tabs}/1", json=tab(1, buttons=[]), headers=h))
    assert replaced["data"]["categories"][0]["tabs"][0]["buttons"] == []

    r = await md.delete(f"{url}/categories/0", headers=h)
    assert assert_ok(r)["data"] == {"itemBookId": book["itemBookId"], "categoryNumber": 0}
    assert_error(await md.delete(f"{url}/categories/0", headers=h), 404)
    final = assert_ok(await md.get(url, headers=h))["data"]
    assert [c["categoryNumber"] for c in final["categories"]] == [2]

    # Terminals read but never write.
    assert_error(
        await md.post(f"{url}/categories", json=category(5), headers=await tenant.till()), 403
    )


async def test_update_list_delete_and_detail(md: httpx.AsyncClient, tenant: Tenant) -> None:
    item = {
        "itemCode": "IB-ITEM",
        "description": "Green tea",
        "unitPrice": 120,
        "unitCost": 60,
        "itemDetails": [],
        "imageUrls": [],
        "categoryCode": "001",
        "taxCode": "01",
    }
    assert_ok(await md.post(f"{tenant.base}/items", json=item, headers=tenant.admin), 201)
    assert_ok(
        await md.post(
            f"{tenant.base}/stores/S1/items",
            json={"itemCode": "IB-ITEM", "storePrice": 100},
            headers=tenant.admin,
        ),
        201,
    )
    book = await new_book(
        md, tenant, [category(1, [tab(1, [button(0, 0), button(0, 1, code="MISSING")])])]
    )
    url = f"{tenant.base}/item_books/{book['itemBookId']}"

    detail = assert_ok(
        await md.get(f"{url}/detail", params={"store_code": "S1"}, headers=await tenant.till())
    )
    b = detail["data"]["categories"][0]["tabs"][0]["buttons"]
    assert (b[0]["description"], b[0]["unitPrice"]) == ("Green tea", 100.0)
    assert (b[1]["description"], b[1]["unitPrice"]) == ("not found", None)
    other = assert_ok(
        await md.get(f"{url}/detail", params={"store_code": "S2"}, headers=tenant.admin)
    )
    assert other["data"]["categories"][0]["tabs"][0]["buttons"][0]["unitPrice"] == 120.0
    assert_error(await md.get(f"{url}/detail", headers=tenant.admin), 422)

    r = await md.put(url, json={"title": "Renamed"}, headers=tenant.admin)
    data = assert_ok(r)["data"]
    assert data["title"] == "Renamed" and data["categories"] == []  # v1: omitting empties
    assert data["lastUpdateDatetime"] is not None
    assert_error(
        await md.put(f"{tenant.base}/item_books/NOPE", json={"title": "x"}, headers=tenant.admin),
        404,
    )

    listed = assert_ok(
        await md.get(
            f"{tenant.base}/item_books",
            params={"sort": "item_book_id:-1", "limit": 1},
            headers=tenant.admin,
        )
    )
    assert listed["data"][0]["itemBookId"] == book["itemBookId"]
    assert listed["metadata"]["total"] >= 1

    r = await md.delete(url, headers=tenant.admin)
    assert assert_ok(r)["data"] == {"itemBookId": book["itemBookId"]}
    assert_error(await md.get(url, headers=tenant.admin), 404)
    assert_error(await md.delete(url, headers=tenant.admin), 404)
