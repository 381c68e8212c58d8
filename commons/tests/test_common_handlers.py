"""Global exception handlers: every failure is the envelope with the right status and code,
and nothing internal (stack trace, exception text, echoed input) leaks."""

from __future__ import annotations

from typing import Annotated

import httpx
import pytest
from fastapi import APIRouter, HTTPException, Query
from pydantic import BaseModel, Field

from kugelpos.common import errors as e
from kugelpos.common.errors import AppError, ErrorCode
from kugelpos.common.money import WholeAmount

KEYS = {"success", "code", "message", "userError", "data", "metadata", "operation"}
# Error bodies also carry `user_error`, the same object for v1 clients.
ERROR_KEYS = KEYS | {"user_error"}
SECRET_TEXT = "mongodb://admin:hunter2@db.internal"


class Body(BaseModel):
    name: str = Field(max_length=20)
    quantity: int
    price: int


class Tender(BaseModel):
    code: str
    amount: WholeAmount


class Wide(BaseModel):
    a: int
    b: int
    c: int
    d: int
    e: int
    f: int
    g: int


class TeapotError(AppError):
    code = "406099"
    status = 418
    messages = {"en": "I am a teapot", "ja": "ティーポットです"}


ERRORS: dict[str, type[AppError]] = {
    "not_found": e.NotFoundError,
    "exists": e.AlreadyExistsError,
    "conflict": e.ConflictError,
    "invalid_input": e.InvalidInputError,
    "bad_request": e.BadRequestError,
    "invalid_operation": e.InvalidOperationError,
    "auth": e.AuthenticationError,
    "denied": e.PermissionDeniedError,
    "too_many": e.TooManyAttemptsError,
    "database": e.DatabaseError,
    "external": e.ExternalServiceError,
    "unavailable": e.ServiceUnavailableError,
    "teapot": TeapotError,
    "base": AppError,
}

router = APIRouter()


@router.get("/raise/{kind}")
async def raise_app_error(kind: str) -> dict:
    raise ERRORS[kind](f"raised {kind}")


@router.get("/custom")
async def raise_custom() -> dict:
    raise e.NotFoundError("Terminal T-1 not found", code="406001")


@router.post("/body")
async def take_body(body: Body) -> dict:
    return body.model_dump()


@router.post("/tenders")
async def take_tenders(body: list[Tender]) -> dict:
    return {"total": sum(t.amount for t in body)}


@router.post("/wide")
async def take_wide(body: Wide) -> dict:
    return body.model_dump()


@router.get("/query")
async def take_query(count: Annotated[int, Query(ge=1)]) -> dict:
    return {"count": count}


@router.get("/boom")
async def boom() -> dict:
    raise RuntimeError(f"connection to {SECRET_TEXT} failed")


@router.get("/model-error")
async def model_error() -> dict:
    Body.model_validate({"name": "x", "quantity": "many", "price": 1})
    return {}


@router.get("/http/{status}")
async def http_error(status: int) -> dict:
    raise HTTPException(status, detail=f"plain http {status}", headers={"X-Extra": "1"})


@pytest.fixture
def client(make_app, client_for) -> httpx.AsyncClient:
    return client_for(make_app([router]), raise_app_exceptions=False)


@pytest.mark.parametrize(
    ("kind", "status", "code"),
    [
        ("not_found", 404, "100001"),
        ("exists", 409, "500005"),
        ("conflict", 409, "500009"),
        ("invalid_input", 422, "300001"),
        ("bad_request", 400, "300003"),
        ("invalid_operation", 400, "300004"),
        ("auth", 401, "200001"),
        ("denied", 403, "200002"),
        ("too_many", 429, "200003"),
        ("database", 500, "500001"),
        ("external", 502, "600001"),
        ("unavailable", 503, "600002"),
        ("teapot", 418, "406099"),
        ("base", 500, "100000"),
    ],
)
async def test_app_errors_map_to_status_and_code(
    client: httpx.AsyncClient, kind: str, status: int, code: str
) -> None:
    response = await client.get(f"/raise/{kind}")
    assert response.status_code == status
    body = response.json()
    assert set(body) == ERROR_KEYS
    assert body["success"] is False
    assert body["code"] == code
    assert body["userError"]["code"] == code
    assert body["message"] == f"raised {kind}"
    if kind == "teapot":  # a code of its own: the texts its class declares, through the handler
        assert body["userError"]["message"] == "I am a teapot"
    assert body["data"] is None
    assert body["operation"] == "raise_app_error"


async def test_code_override_on_instance(client: httpx.AsyncClient) -> None:
    response = await client.get("/custom")
    assert response.status_code == 404
    assert response.json()["code"] == "406001"
    assert response.json()["userError"]["code"] == "406001"


async def test_unauthorized_carries_www_authenticate(client: httpx.AsyncClient) -> None:
    response = await client.get("/raise/auth")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"


async def test_http_exception_headers_are_kept(client: httpx.AsyncClient) -> None:
    response = await client.get("/http/401")
    assert response.status_code == 401
    assert response.headers["X-Extra"] == "1"
    body = response.json()
    assert body["code"] == "200001"
    assert body["message"] == "plain http 401"


@pytest.mark.parametrize(
    ("status", "code"), [(403, "200002"), (404, "100001"), (409, "100000"), (400, "300003")]
)
async def test_http_exceptions_map_to_codes(
    client: httpx.AsyncClient, status: int, code: str
) -> None:
    response = await client.get(f"/http/{status}")
    assert response.status_code == status
    assert response.json()["code"] == code
    assert set(response.json()) == ERROR_KEYS


async def test_validation_error_is_422_300001(client: httpx.AsyncClient) -> None:
    response = await client.post("/body", json={"name": "a", "quantity": "lots", "price": 1})
    assert response.status_code == 422
    body = response.json()
    assert set(body) == ERROR_KEYS
    assert body["code"] == "300001"
    assert body["userError"]["code"] == "300001"
    assert "body -> quantity" in body["message"]
    assert body["data"] is None


async def test_a_whole_float_amount_is_accepted(client: httpx.AsyncClient) -> None:
    response = await client.post("/tenders", json=[{"code": "01", "amount": 220.0}])
    assert response.status_code == 200, response.text


async def test_a_fraction_of_the_currency_unit_is_400_300001(client: httpx.AsyncClient) -> None:
    response = await client.post("/tenders", json=[{"code": "01", "amount": 1.5}])
    assert response.status_code == 400
    body = response.json()
    assert set(body) == ERROR_KEYS
    assert body["code"] == "300001" and body["user_error"]["code"] == "300001"
    assert "body -> 0 -> amount" in body["message"]
    assert "fraction of the smallest currency unit" in body["message"]


async def test_a_fraction_with_a_malformed_field_stays_422(client: httpx.AsyncClient) -> None:
    response = await client.post("/tenders", json=[{"amount": 1.5}])
    assert response.status_code == 422


async def test_only_missing_fields_is_300002(client: httpx.AsyncClient) -> None:
    response = await client.post("/body", json={"name": "a"})
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "300002"
    assert "body -> quantity" in body["message"] and "body -> price" in body["message"]


async def test_missing_and_invalid_mixed_is_300001(client: httpx.AsyncClient) -> None:
    response = await client.post("/body", json={"name": "a", "quantity": "x"})
    assert response.json()["code"] == "300001"


async def test_query_validation(client: httpx.AsyncClient) -> None:
    assert (await client.get("/query", params={"count": 0})).json()["code"] == "300001"
    assert (await client.get("/query")).json()["code"] == "300002"


async def test_huge_input_is_not_echoed(client: httpx.AsyncClient) -> None:
    huge = "Z" * 200_000
    response = await client.post("/body", json={"name": huge, "quantity": huge, "price": 1})
    assert response.status_code == 422
    assert "ZZZZZZZZZZ" not in response.text
    assert len(response.content) < 2_000


async def test_many_errors_are_capped(client: httpx.AsyncClient) -> None:
    response = await client.post("/wide", json=dict.fromkeys("abcdefg", "x"))
    assert response.status_code == 422
    message = response.json()["message"]
    assert message.count("body -> ") == 5
    assert message.endswith("... and 2 more")


async def test_malformed_json_is_422(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/body", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert response.status_code == 422
    assert response.json()["code"] == "300001"


async def test_model_validation_inside_handler_is_422(client: httpx.AsyncClient) -> None:
    response = await client.get("/model-error")
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "300001"
    assert body["message"].startswith("Validation error")


async def test_unknown_exception_is_500_without_leak(client: httpx.AsyncClient) -> None:
    response = await client.get("/boom")
    assert response.status_code == 500
    body = response.json()
    assert set(body) == ERROR_KEYS
    assert body["code"] == "900999"
    assert body["userError"] == {"code": "900999", "message": "Unexpected error"}
    assert body["message"] == "Internal server error"
    assert body["data"] is None
    assert "hunter2" not in response.text
    assert "RuntimeError" not in response.text
    assert "Traceback" not in response.text


async def test_unknown_exception_japanese(client: httpx.AsyncClient) -> None:
    response = await client.get("/boom", headers={"Accept-Language": "ja"})
    assert response.json()["userError"]["message"] == "予期しないエラー"


async def test_unknown_route_is_404_envelope(client: httpx.AsyncClient) -> None:
    response = await client.get("/no/such/route")
    assert response.status_code == 404
    body = response.json()
    assert set(body) == ERROR_KEYS
    assert body["code"] == "100001"
    assert body["success"] is False
    assert body["operation"] is None


async def test_wrong_method_is_405_envelope(client: httpx.AsyncClient) -> None:
    response = await client.delete("/body")
    assert response.status_code == 405
    assert response.json()["code"] == ErrorCode.INVALID_OPERATION


def test_app_error_defaults() -> None:
    err = e.NotFoundError()
    assert err.message == "NotFoundError"
    assert (err.status_code, err.error_code) == (404, "100001")
    custom = e.AppError("x", code="123456", status=418, details={"a": 1})
    assert (custom.status_code, custom.error_code, custom.details) == (418, "123456", {"a": 1})
    auth = e.AuthenticationError(headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})
    assert auth.headers == {"WWW-Authenticate": 'Bearer error="invalid_token"'}
    assert auth.message == "Authentication failed"
