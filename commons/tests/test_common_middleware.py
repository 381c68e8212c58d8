"""Request middleware: correlation id in and out, one access-log line per request, secrets
scrubbed from logs, request-size cap, and Prometheus metrics."""

from __future__ import annotations

import json
import re

import httpx
import pytest
import structlog
from fastapi import APIRouter, Request, WebSocket
from fastapi.responses import StreamingResponse

from kugelpos.common.errors import AuthenticationError
from kugelpos.common.observability.context import current_request_id
from kugelpos.common.observability.logging import REDACTED, redact
from kugelpos.common.observability.metrics import Metrics
from kugelpos.common.observability.middleware import _declared_length

router = APIRouter()
KEYS = {"success", "code", "message", "userError", "data", "metadata", "operation"}
# Error bodies also carry `user_error`, the same object for v1 clients.
ERROR_KEYS = KEYS | {"user_error"}


@router.get("/items/{item_id}")
async def get_item(item_id: str) -> dict:
    return {"item_id": item_id, "request_id": current_request_id()}


@router.post("/upload")
async def upload(request: Request) -> dict:
    return {"size": len(await request.body())}


@router.post("/json")
async def take_json(body: dict) -> dict:
    return {"keys": len(body)}


@router.get("/deny")
async def deny() -> dict:
    raise AuthenticationError("nope")


@router.get("/boom")
async def boom() -> dict:
    raise RuntimeError("kaboom with password=hunter2")


@router.get("/stream-fails")
async def stream_fails() -> StreamingResponse:
    async def chunks():
        yield b"partial"
        raise RuntimeError("broken mid-stream")

    return StreamingResponse(chunks(), media_type="text/plain")


@router.get("/log-secret")
async def log_secret() -> dict:
    structlog.get_logger("test").info(
        "login", user={"name": "u", "password": "hunter2", "nested": {"api_key": "k-123"}}
    )
    return {}


@pytest.fixture
def app(make_app):
    return make_app([router])


@pytest.fixture
def client(app, client_for) -> httpx.AsyncClient:
    return client_for(app, raise_app_exceptions=False)


def _log_lines(captured: str) -> list[dict]:
    lines = []
    for line in captured.splitlines():
        line = line.strip()
        if line.startswith("{"):
            lines.append(json.loads(line))
    return lines


def _access_lines(captured: str) -> list[dict]:
    return [line for line in _log_lines(captured) if line.get("event") == "request"]


# --- correlation id -------------------------------------------------------------------------


async def test_request_id_accepted_and_returned(client: httpx.AsyncClient) -> None:
    response = await client.get("/items/1", headers={"X-Request-ID": "abc-123.DEF:9"})
    assert response.headers["X-Request-ID"] == "abc-123.DEF:9"
    assert response.json()["request_id"] == "abc-123.DEF:9"  # visible to the handler


async def test_request_id_generated_when_absent(client: httpx.AsyncClient) -> None:
    first = await client.get("/items/1")
    second = await client.get("/items/1")
    rid = first.headers["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", rid)
    assert first.json()["request_id"] == rid
    assert second.headers["X-Request-ID"] != rid


@pytest.mark.parametrize(
    "bad", ["", "has space", "x" * 129, "semi;colon", 'quote"', "<script>", "ü-nicode"]
)
async def test_invalid_request_id_replaced(client: httpx.AsyncClient, bad: str) -> None:
    response = await client.get("/items/1", headers={"X-Request-ID": bad.encode("utf-8")})
    rid = response.headers["X-Request-ID"]
    assert rid != bad
    assert re.fullmatch(r"[0-9a-f]{32}", rid)


async def test_request_id_on_error_envelopes(client: httpx.AsyncClient) -> None:
    for path in ("/deny", "/nowhere"):
        response = await client.get(path, headers={"X-Request-ID": "rid-err"})
        assert response.headers["X-Request-ID"] == "rid-err"
        assert set(response.json()) == ERROR_KEYS


async def test_request_id_on_unexpected_500(client: httpx.AsyncClient) -> None:
    response = await client.get("/boom", headers={"X-Request-ID": "rid-500"})
    assert response.status_code == 500
    assert response.json()["code"] == "900999"
    assert response.headers["X-Request-ID"] == "rid-500"
    assert "hunter2" not in response.text


async def test_request_id_context_cleared_after_request(client: httpx.AsyncClient) -> None:
    await client.get("/items/1", headers={"X-Request-ID": "rid-leak"})
    assert current_request_id() is None


# --- access log -----------------------------------------------------------------------------


async def test_one_access_line_per_request_with_request_id(
    client: httpx.AsyncClient, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    await client.get("/items/7", headers={"X-Request-ID": "rid-log-1"})
    await client.get("/nowhere", headers={"X-Request-ID": "rid-log-2"})
    lines = _access_lines(capsys.readouterr().out)
    assert len(lines) == 2
    first, second = lines
    assert first["request_id"] == "rid-log-1"
    assert first["method"] == "GET"
    assert first["path"] == "/items/7"
    assert first["status"] == 200
    assert first["service"] == "commons-test"
    assert isinstance(first["duration_ms"], int | float)
    assert second["request_id"] == "rid-log-2"
    assert second["status"] == 404


async def test_unexpected_error_logged_with_request_id(
    client: httpx.AsyncClient, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    await client.get("/boom", headers={"X-Request-ID": "rid-boom"})
    lines = _log_lines(capsys.readouterr().out)
    errors = [line for line in lines if line.get("event") == "unexpected_error"]
    assert len(errors) == 1
    assert errors[0]["request_id"] == "rid-boom"
    assert errors[0]["error_type"] == "RuntimeError"
    access = [line for line in lines if line.get("event") == "request"]
    assert len(access) == 1
    assert access[0]["status"] == 500


async def test_query_secrets_scrubbed_from_access_log(
    client: httpx.AsyncClient, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    await client.get(
        "/items/1",
        params={
            "terminal_id": "A1234-1-1",
            "api_key": "k-secret",
            "password": "p-secret",
            "access_token": "t-secret",
            "pin": "9876",
        },
    )
    out = capsys.readouterr().out
    for secret in ("k-secret", "p-secret", "t-secret", "9876"):
        assert secret not in out
    (line,) = _access_lines(out)
    assert "terminal_id=A1234-1-1" in line["query"]
    assert "api_key=***" in line["query"]
    assert "password=***" in line["query"]


async def test_structured_log_redacts_secrets(
    client: httpx.AsyncClient, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    await client.get("/log-secret", headers={"X-Request-ID": "rid-secret"})
    out = capsys.readouterr().out
    assert "hunter2" not in out and "k-123" not in out
    (line,) = [line for line in _log_lines(out) if line.get("event") == "login"]
    assert line["user"] == {"name": "u", "password": REDACTED, "nested": {"api_key": REDACTED}}
    assert line["request_id"] == "rid-secret"


def test_redact_nested() -> None:
    event = {
        "user": {"name": "n", "Password": "p", "hashed_password": "h"},
        "items": [{"token": "t", "ok": 1}, ("x", {"apiKey": "a"})],
        "headers": {"Authorization": "Bearer x", "X-API-KEY": "k", "accept": "json"},
        "staff": {"pin": "0000", "staff_pin": "1111"},
        "client_secret": "s",
        "count": 3,
        4: "int key kept",
    }
    assert redact(event) == {
        "user": {"name": "n", "Password": REDACTED, "hashed_password": REDACTED},
        "items": [{"token": REDACTED, "ok": 1}, ["x", {"apiKey": REDACTED}]],
        "headers": {"Authorization": REDACTED, "X-API-KEY": REDACTED, "accept": "json"},
        "staff": {"pin": REDACTED, "staff_pin": REDACTED},
        "client_secret": REDACTED,
        "count": 3,
        4: "int key kept",
    }
    assert redact("plain") == "plain"
    assert redact(None) is None


# --- request size ---------------------------------------------------------------------------


async def test_declared_oversize_body_is_413_envelope(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/upload", content=b"x" * (1024 * 1024 + 1), headers={"X-Request-ID": "rid-big"}
    )
    assert response.status_code == 413
    body = response.json()
    assert set(body) == ERROR_KEYS
    assert body["code"] == "300005"
    assert body["user_error"] == body["userError"]
    assert body["userError"]["code"] == "300005"
    assert response.headers["X-Request-ID"] == "rid-big"


async def test_413_is_localised(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/upload", content=b"x" * (1024 * 1024 + 1), headers={"Accept-Language": "ja"}
    )
    assert response.json()["userError"]["message"] == "リクエストが大きすぎます"


@pytest.mark.parametrize(
    ("headers", "expected"),
    [([(b"content-length", b"12")], 12), ([(b"content-length", b"abc")], 0), ([], 0)],
)
def test_declared_length(headers: list, expected: int) -> None:
    assert _declared_length({"headers": headers}) == expected


async def test_error_after_response_started_is_not_masked(app, client_for) -> None:
    # Once the status line is out, a 500 envelope cannot be sent: the error propagates
    # to the server (which drops the connection) instead of a second response.
    client = client_for(app, raise_app_exceptions=True)
    with pytest.raises(RuntimeError, match="broken mid-stream"):
        await client.get("/stream-fails")


async def test_non_http_scopes_pass_through(app) -> None:
    incoming = [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}]
    sent: list[str] = []

    async def receive() -> dict:
        return incoming.pop(0)

    async def send(message: dict) -> None:
        sent.append(message["type"])

    scope = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}
    await app(scope, receive, send)
    assert sent == ["lifespan.startup.complete", "lifespan.shutdown.complete"]


async def test_body_at_limit_is_accepted(client: httpx.AsyncClient) -> None:
    response = await client.post("/upload", content=b"x" * (1024 * 1024))
    assert response.status_code == 200
    assert response.json() == {"size": 1024 * 1024}


async def _chunks(total: int, size: int = 64 * 1024):
    sent = 0
    while sent < total:
        chunk = min(size, total - sent)
        sent += chunk
        yield b"x" * chunk


async def test_streamed_oversize_body_is_413(client: httpx.AsyncClient) -> None:
    # No Content-Length: the cap is enforced while the body is read.
    response = await client.post("/upload", content=_chunks(2 * 1024 * 1024))
    assert response.status_code == 413
    assert response.json()["code"] == "300005"


async def test_streamed_oversize_json_body_is_413(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/json", content=_chunks(2 * 1024 * 1024), headers={"content-type": "application/json"}
    )
    assert response.status_code == 413
    assert response.json()["code"] == "300005"


# --- metrics --------------------------------------------------------------------------------


async def test_metrics_exposes_latency_and_errors(client: httpx.AsyncClient) -> None:
    await client.get("/items/1")
    await client.get("/items/2")
    await client.get("/deny")
    response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    text = response.text
    assert "# TYPE http_request_duration_seconds histogram" in text
    ok_count = re.search(
        r'http_request_duration_seconds_count\{method="GET",route="/items/\{item_id\}",'
        r'service="commons-test",status="200"\} (\S+)',
        text,
    )
    assert ok_count and float(ok_count.group(1)) == 2.0
    assert re.search(
        r'http_request_errors_total\{method="GET",route="/deny",'
        r'service="commons-test",status="401"\} 1\.0',
        text,
    )
    # successes are not errors
    assert 'http_request_errors_total{method="GET",route="/items/{item_id}"' not in text


async def test_unmatched_routes_share_one_label(client: httpx.AsyncClient) -> None:
    for n in range(3):
        await client.get(f"/random/{n}")
    text = (await client.get("/metrics")).text
    assert re.search(
        r'http_request_errors_total\{[^}]*route="unmatched"[^}]*status="404"\} 3\.0', text
    )
    assert "/random/1" not in text


def test_metrics_registry_is_per_instance() -> None:
    a, b = Metrics("a"), Metrics("b")
    a.observe("GET", "/x", 500, 0.01)
    assert b"http_request_errors_total" in a.render()
    assert b'service="a"' in a.render()
    assert b'service="a"' not in b.render()


# --- WebSocket access line ------------------------------------------------------------------


@router.websocket("/ws/{room}")
async def socket_route(websocket: WebSocket, room: str) -> None:
    await websocket.accept()
    await websocket.send_text(room)
    await websocket.close(code=1000)


@router.websocket("/ws-refused")
async def socket_refused(websocket: WebSocket) -> None:
    await websocket.close(code=1008)


async def _drive_websocket(app, path: str, query: bytes) -> list[dict]:
    incoming = [{"type": "websocket.connect"}]
    sent: list[dict] = []

    async def receive() -> dict:
        return incoming.pop(0) if incoming else {"type": "websocket.disconnect", "code": 1000}

    async def send(message: dict) -> None:
        sent.append(message)

    scope = {
        "type": "websocket",
        "asgi": {"version": "3.0"},
        "scheme": "ws",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query,
        "headers": [(b"x-request-id", b"rid-ws")],
        "client": ("198.51.100.4", 4000),
        "server": ("testserver", 80),
        "subprotocols": [],
        "state": {},
    }
    await app(scope, receive, send)
    return sent


async def test_websocket_gets_one_scrubbed_access_line(
    app, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    sent = await _drive_websocket(app, "/ws/lobby", b"token=eyJabcde.eyJfghij.sig-secret&x=1")
    assert [m["type"] for m in sent] == ["websocket.accept", "websocket.send", "websocket.close"]
    sent = await _drive_websocket(app, "/ws-refused", b"apiKey=k-secret")
    assert [m["type"] for m in sent] == ["websocket.close"]
    out = capsys.readouterr().out
    assert "sig-secret" not in out and "k-secret" not in out
    accepted, refused = [line for line in _log_lines(out) if line.get("event") == "websocket"]
    assert accepted["path"] == "/ws/lobby" and accepted["query"] == "token=***&x=1"
    assert accepted["status"] == 101 and accepted["close_code"] == 1000
    assert accepted["closed_by"] == "server" and accepted["request_id"] == "rid-ws"
    assert accepted["client"] == "198.51.100.4"
    assert refused["status"] == 403 and refused["close_code"] == 1008
    assert refused["query"] == "apiKey=***"
