"""Pagination: `sort` parsing (400 on bad input, never 500), skip arithmetic, metadata."""

from __future__ import annotations

from typing import Annotated

import httpx
import pytest
from fastapi import APIRouter, Depends

from kugelpos.common.envelope import ApiResponse, ok
from kugelpos.common.errors import BadRequestError, ErrorCode
from kugelpos.common.pagination import (
    MAX_LIMIT,
    Page,
    PageParams,
    page_params,
    parse_sort,
    render_sort,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (None, []),
        ("", []),
        ("   ", []),
        ("terminal_id:1", [("terminal_id", 1)]),
        ("terminal_id:-1", [("terminal_id", -1)]),
        ("a:1,b:-1", [("a", 1), ("b", -1)]),
        (" a : 1 , b:-1 ", [("a", 1), ("b", -1)]),
        ("storeCode:1,createdAt:-1", [("store_code", 1), ("created_at", -1)]),
        ("itemCode", [("item_code", 1)]),
        ("line_items.unit_price:-1", [("line_items.unit_price", -1)]),
        ("_id:1", [("_id", 1)]),
    ],
)
def test_parse_sort_happy_paths(raw: str | None, expected: list) -> None:
    assert parse_sort(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "a:2",
        "a:0",
        "a:asc",
        "a:+1",
        "a:1:1",
        ":1",
        "a:1,,b:1",
        "a:1,",
        "$where:1",
        "a b:1",
        "a;drop:1",
        "1abc:1",
        "a" * 65 + ":1",
        "名前:1",
    ],
)
def test_parse_sort_malformed_is_bad_request(raw: str) -> None:
    with pytest.raises(BadRequestError) as info:
        parse_sort(raw)
    assert info.value.status_code == 400
    assert info.value.error_code == ErrorCode.INVALID_FORMAT


def test_parse_sort_whitelist() -> None:
    allowed = frozenset({"terminal_id", "created_at"})
    assert parse_sort("terminalId:-1,created_at:1", allowed) == [
        ("terminal_id", -1),
        ("created_at", 1),
    ]
    with pytest.raises(BadRequestError, match="Cannot sort by 'api_key'"):
        parse_sort("api_key:1", allowed)
    with pytest.raises(BadRequestError):
        parse_sort("terminal_id:1,hashedPassword:1", allowed)


def test_render_sort() -> None:
    assert render_sort([("a", 1), ("b", -1)]) == "a:1, b:-1"
    assert render_sort([]) == ""


@pytest.mark.parametrize(
    ("limit", "page", "skip"),
    [(100, 1, 0), (20, 3, 40), (1, 1000, 999), (0, 1, 0), (0, 7, 0), (50, 2, 50)],
)
def test_skip(limit: int, page: int, skip: int) -> None:
    assert PageParams(limit=limit, page=page).skip == skip


def test_metadata() -> None:
    params = PageParams(limit=10, page=2, sort=[("terminal_id", 1), ("created_at", -1)])
    meta = params.metadata(42, {"tenant_id": "A1234", "store_code": "5678"})
    assert meta.model_dump() == {
        "total": 42,
        "page": 2,
        "limit": 10,
        "sort": "terminal_id:1, created_at:-1",
        "filter": {"tenant_id": "A1234", "store_code": "5678"},
    }
    assert PageParams().metadata(0).sort is None
    page = Page(items=["x"], total=1, params=PageParams(limit=5))
    assert page.metadata({"a": 1}).model_dump() == {
        "total": 1,
        "page": 1,
        "limit": 5,
        "sort": None,
        "filter": {"a": 1},
    }


router = APIRouter()


@router.get("/things")
async def list_things(
    params: Annotated[PageParams, Depends(page_params)],
) -> ApiResponse[dict]:
    return ok(
        {"skip": params.skip, "sort": params.sort},
        metadata=params.metadata(0, {}),
        operation="list_things",
    )


@router.get("/whitelisted")
async def list_whitelisted(sort: str | None = None) -> ApiResponse[list]:
    return ok(parse_sort(sort, frozenset({"terminal_id"})))


@pytest.fixture
def client(make_app, client_for) -> httpx.AsyncClient:
    return client_for(make_app([router]), raise_app_exceptions=False)


async def test_endpoint_defaults(client: httpx.AsyncClient) -> None:
    body = (await client.get("/things")).json()
    assert body["data"] == {"skip": 0, "sort": []}
    assert body["metadata"] == {"total": 0, "page": 1, "limit": 100, "sort": None, "filter": {}}


async def test_endpoint_paging_and_sort(client: httpx.AsyncClient) -> None:
    response = await client.get("/things", params={"limit": 25, "page": 3, "sort": "storeCode:-1"})
    assert response.status_code == 200
    body = response.json()
    assert body["data"] == {"skip": 50, "sort": [["store_code", -1]]}
    assert body["metadata"]["sort"] == "store_code:-1"
    assert (body["metadata"]["page"], body["metadata"]["limit"]) == (3, 25)


@pytest.mark.parametrize("sort", ["name:2", "name:asc", "$where:1", ":"])
async def test_endpoint_malformed_sort_is_400_envelope(
    client: httpx.AsyncClient, sort: str
) -> None:
    response = await client.get("/things", params={"sort": sort})
    assert response.status_code == 400
    body = response.json()
    assert body["success"] is False
    assert body["code"] == "300003"
    assert body["userError"]["code"] == "300003"


async def test_endpoint_whitelist_is_400(client: httpx.AsyncClient) -> None:
    assert (await client.get("/whitelisted", params={"sort": "terminalId:1"})).status_code == 200
    response = await client.get("/whitelisted", params={"sort": "apiKey:1"})
    assert response.status_code == 400
    assert response.json()["code"] == "300003"


@pytest.mark.parametrize(
    "params",
    [
        {"limit": -1},
        {"limit": MAX_LIMIT + 1},
        {"page": 0},
        {"page": "two"},
        {"sort": "a:1," * 100},
    ],
)
async def test_endpoint_out_of_range_is_422(client: httpx.AsyncClient, params: dict) -> None:
    response = await client.get("/things", params=params)
    assert response.status_code == 422
    assert response.json()["code"] == "300001"
