"""Pure ASGI middleware (no body buffering): correlation id in and out, one access-log line
per request (and per WebSocket connection), latency metrics, and a cap on request body size.

The access line's query string is scrubbed (`redaction.scrub_query`): credentials sent as
query parameters (`?token=` of the v1 stock alerts, `api_key`, `pin`, ...) show as `***`."""

from __future__ import annotations

import re
import time
import uuid
from typing import Any

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .context import REQUEST_ID_HEADER, reset_request_id, set_request_id
from .metrics import Metrics
from .redaction import scrub_query

log = structlog.get_logger("kugelpos.access")
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
_HEADER = REQUEST_ID_HEADER.lower().encode()
# What a WebSocket's access line reports as its status: uvicorn answers a handshake the app
# closes before accepting with 403.
_WS_ACCEPTED = 101
_WS_REFUSED = 403


def _scrub_query(query: bytes) -> str:
    return scrub_query(query.decode("latin-1"))


def _request_id(scope: Scope) -> str:
    incoming = dict(scope["headers"]).get(_HEADER, b"").decode("latin-1")
    return incoming if _VALID_REQUEST_ID.fullmatch(incoming) else uuid.uuid4().hex


def _client(scope: Scope) -> str:
    return (scope.get("client") or ("", 0))[0]


class RequestContextMiddleware:
    def __init__(self, app: ASGIApp, *, metrics: Metrics, max_body_bytes: int) -> None:
        self.app = app
        self.metrics = metrics
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            await self._websocket(scope, receive, send)
            return
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _request_id(scope)
        token = set_request_id(request_id)
        started = time.perf_counter()
        status = 500
        received = 0
        too_large = False
        response_started = False

        async def limited_receive() -> Message:
            nonlocal received, too_large
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body_bytes:
                    too_large = True
                    raise _BodyTooLarge
            return message

        async def send_with_id(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                if too_large:
                    # Whatever the app made of a truncated body (FastAPI turns the read
                    # error into a 400) is replaced by the 413 sent below.
                    return
                response_started = True
                status = message["status"]
                headers = list(message.get("headers", []))
                headers.append((_HEADER, request_id.encode()))
                message = {**message, "headers": headers}
            elif not response_started:
                return
            await send(message)

        try:
            if _declared_length(scope) > self.max_body_bytes:
                too_large = True
            else:
                try:
                    await self.app(scope, limited_receive, send_with_id)
                except Exception as exc:
                    # `_BodyTooLarge` (possibly wrapped by the app); otherwise an error no
                    # handler took: answer the 500 envelope here, while the request id is
                    # still set, so the error log line and the response both carry it.
                    if too_large:
                        pass
                    elif response_started:
                        raise
                    else:
                        await _send_unexpected(scope, exc, send_with_id)
            if too_large and not response_started:
                too_large = False  # let the 413 through `send_with_id`
                await _send_too_large(scope, send_with_id, self.max_body_bytes)
        finally:
            elapsed = time.perf_counter() - started
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            self.metrics.observe(scope["method"], template, status, elapsed)
            log.info(
                "request",
                method=scope["method"],
                path=scope["path"],
                query=_scrub_query(scope.get("query_string", b"")),
                status=status,
                duration_ms=round(elapsed * 1000, 2),
                client=_client(scope),
            )
            reset_request_id(token)

    async def _websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        """One access line per connection, when it ends: accepted (101) or refused (403), and
        who closed it with which code. uvicorn's own handshake line is scrubbed by the logging
        filter; this one is the structured record."""
        token = set_request_id(_request_id(scope))
        started = time.perf_counter()
        status = _WS_REFUSED
        close_code: int | None = None
        closed_by = "server"

        async def watched_receive() -> Message:
            nonlocal close_code, closed_by
            message = await receive()
            if message["type"] == "websocket.disconnect" and close_code is None:
                close_code, closed_by = message.get("code", 1000), "client"
            return message

        async def watched_send(message: Message) -> None:
            nonlocal status, close_code
            if message["type"] == "websocket.accept":
                status = _WS_ACCEPTED
            elif message["type"] == "websocket.close" and close_code is None:
                close_code = message.get("code", 1000)
            await send(message)

        try:
            await self.app(scope, watched_receive, watched_send)
        finally:
            log.info(
                "websocket",
                path=scope["path"],
                query=_scrub_query(scope.get("query_string", b"")),
                status=status,
                close_code=close_code,
                closed_by=closed_by if close_code is not None else None,
                duration_ms=round((time.perf_counter() - started) * 1000, 2),
                client=_client(scope),
            )
            reset_request_id(token)


class _BodyTooLarge(Exception):
    pass


def _declared_length(scope: Scope) -> int:
    for name, value in scope["headers"]:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return 0
    return 0


async def _send_unexpected(scope: Scope, exc: Exception, send: Any) -> None:
    from starlette.requests import Request

    from ..web.handlers import unexpected_error_handler

    response = await unexpected_error_handler(Request(scope), exc)
    await response(scope, _no_body, send)


async def _no_body() -> Message:
    return {"type": "http.disconnect"}


async def _send_too_large(scope: Scope, send: Any, limit: int) -> None:
    import json

    from ..envelope import error_body
    from ..errors import ErrorCode
    from ..messages import language_from_header, user_message

    accept_language = dict(scope["headers"]).get(b"accept-language", b"").decode("latin-1")
    body = json.dumps(
        error_body(
            code=ErrorCode.PAYLOAD_TOO_LARGE,
            message=f"Request body exceeds {limit} bytes",
            user_message=user_message(
                ErrorCode.PAYLOAD_TOO_LARGE, language_from_header(accept_language)
            ),
            operation=None,
        ),
        ensure_ascii=False,
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
