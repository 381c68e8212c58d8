"""The response envelope: seven keys on success and on error, camelCase, localised messages."""

from __future__ import annotations

import httpx
import pytest
from fastapi import APIRouter

from kugelpos.common.envelope import ApiResponse, Metadata, error_body, ok
from kugelpos.common.errors import AppError, ErrorCode, NotFoundError
from kugelpos.common.messages import language_from_header, user_message
from kugelpos.common.schemas import ApiModel, StrictApiModel

KEYS = {"success", "code", "message", "userError", "data", "metadata", "operation"}
# Error bodies also carry `user_error`, the same object for v1 clients.
ERROR_KEYS = KEYS | {"user_error"}


class ItemOut(ApiModel):
    item_code: str
    unit_price: int
    _private_note: str = "never serialised"


class ItemIn(StrictApiModel):
    item_code: str
    unit_price: int


router = APIRouter()


@router.get("/items/{item_code}")
async def get_item(item_code: str) -> ApiResponse[ItemOut]:
    if item_code == "missing":
        raise NotFoundError(f"Item {item_code} not found")
    return ok(ItemOut(item_code=item_code, unit_price=120), operation="get_item")


@router.get("/items")
async def list_items() -> ApiResponse[list[ItemOut]]:
    return ok(
        [ItemOut(item_code="A", unit_price=1)],
        metadata=Metadata(total=1, page=1, limit=10, sort="item_code:1", filter={"x": 1}),
        operation="list_items",
    )


@router.post("/items", status_code=201)
async def create_item(body: ItemIn) -> ApiResponse[ItemOut]:
    return ok(ItemOut(item_code=body.item_code, unit_price=body.unit_price), code=201)


@pytest.fixture
def client(make_app, client_for) -> httpx.AsyncClient:
    return client_for(make_app([router]))


async def test_success_has_all_seven_keys_in_camel_case(client: httpx.AsyncClient) -> None:
    response = await client.get("/items/X1")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == KEYS
    assert body["success"] is True
    assert body["code"] == 200
    assert body["userError"] is None
    assert body["metadata"] is None
    assert body["message"] is None
    assert body["operation"] == "get_item"
    assert body["data"] == {"itemCode": "X1", "unitPrice": 120}


async def test_success_with_metadata(client: httpx.AsyncClient) -> None:
    body = (await client.get("/items")).json()
    assert set(body) == KEYS
    assert body["metadata"] == {
        "total": 1,
        "page": 1,
        "limit": 10,
        "sort": "item_code:1",
        "filter": {"x": 1},
    }
    assert body["data"] == [{"itemCode": "A", "unitPrice": 1}]


@pytest.mark.parametrize(
    "payload", [{"itemCode": "B", "unitPrice": 5}, {"item_code": "B", "unit_price": 5}]
)
async def test_request_accepts_camel_and_snake_case(
    client: httpx.AsyncClient, payload: dict
) -> None:
    response = await client.post("/items", json=payload)
    assert response.status_code == 201
    assert response.json()["code"] == 201
    assert response.json()["data"] == {"itemCode": "B", "unitPrice": 5}


async def test_strict_model_refuses_unknown_fields(client: httpx.AsyncClient) -> None:
    response = await client.post("/items", json={"itemCode": "B", "unitPrice": 5, "isAdmin": True})
    assert response.status_code == 422
    assert response.json()["code"] == ErrorCode.INVALID_INPUT


async def test_error_has_all_seven_keys_and_six_digit_code(client: httpx.AsyncClient) -> None:
    response = await client.get("/items/missing")
    assert response.status_code == 404
    body = response.json()
    assert set(body) == ERROR_KEYS
    assert body["user_error"] == body["userError"]
    assert body["success"] is False
    assert body["code"] == "100001"
    assert isinstance(body["code"], str) and len(body["code"]) == 6
    assert body["userError"] == {"code": "100001", "message": "Resource not found"}
    assert body["message"] == "Item missing not found"
    assert body["data"] is None
    assert body["metadata"] is None
    assert body["operation"] == "get_item"


@pytest.mark.parametrize("header", ["ja", "ja-JP", "ja-JP,en;q=0.8", " JA "])
async def test_accept_language_japanese(client: httpx.AsyncClient, header: str) -> None:
    body = (await client.get("/items/missing", headers={"Accept-Language": header})).json()
    assert body["userError"] == {"code": "100001", "message": "リソースが見つかりません"}
    assert body["message"] == "Item missing not found"  # the technical message stays as raised


@pytest.mark.parametrize("header", ["en", "en-US,ja;q=0.9", "fr", "", "*"])
async def test_other_languages_get_english(client: httpx.AsyncClient, header: str) -> None:
    body = (await client.get("/items/missing", headers={"Accept-Language": header})).json()
    assert body["userError"]["message"] == "Resource not found"


def test_language_from_header() -> None:
    assert language_from_header(None) == "en"
    assert language_from_header("ja;q=1.0") == "ja"
    assert language_from_header("de-DE, ja") == "en"


def test_user_message_fallbacks() -> None:
    # Unknown detail code falls back to its category, then to the general text.
    assert user_message("100099") == user_message(ErrorCode.GENERAL)
    assert user_message("500077", "ja") == "エラーが発生しました"
    assert user_message("990000") == "An error occurred"
    assert user_message(ErrorCode.NOT_FOUND, "xx") == "Resource not found"


def test_a_service_code_reads_the_messages_its_error_class_declares() -> None:
    class TerminalMissingError(AppError):
        code = "406001"
        status = 404
        messages = {"en": "Terminal not found", "ja": "端末が見つかりません"}

    class ItsSubclassError(TerminalMissingError):
        """Same code: the ancestor's texts."""

    class OtherCodeError(TerminalMissingError):
        code = ErrorCode.NOT_FOUND  # a common code: the common texts, not the ancestor's

    error = TerminalMissingError()
    assert user_message("406001", error=error) == "Terminal not found"
    assert user_message("406001", "ja", error) == "端末が見つかりません"
    assert user_message("406001", "ja", ItsSubclassError()) == "端末が見つかりません"
    assert user_message(ErrorCode.NOT_FOUND, error=OtherCodeError()) == "Resource not found"
    # Raised with a common code given at raise time: that code's text.
    given = TerminalMissingError(code=ErrorCode.INVALID_INPUT)
    assert user_message(given.error_code, error=given) == "Invalid input data"
    # Nothing is registered anywhere: without the error, the code is unknown.
    assert user_message("406001") == user_message(ErrorCode.GENERAL)


def test_a_code_of_its_own_without_messages_is_refused_at_definition() -> None:
    with pytest.raises(TypeError, match="406098"):

        class Forgotten(AppError):
            code = "406098"

    with pytest.raises(TypeError, match="406097"):

        class NoEnglish(AppError):
            code = "406097"
            messages = {"ja": "日本語だけ"}


def test_error_body_shape() -> None:
    body = error_body(code="300001", message="bad", user_message="Invalid", operation=None)
    assert set(body) == ERROR_KEYS
    assert body["userError"] == {"code": "300001", "message": "Invalid"}
    assert body["user_error"] == {"code": "300001", "message": "Invalid"}


def test_api_response_serialises_by_alias() -> None:
    dumped = ApiResponse[int](data=3).model_dump()
    assert set(dumped) == KEYS
    assert dumped["userError"] is None
