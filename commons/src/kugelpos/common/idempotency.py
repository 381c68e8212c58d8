"""`Idempotency-Key` for POST requests: a retried request gets the first response again and
changes nothing a second time.

A pure ASGI middleware. For a request that carries the header (and a credential it can
verify), it works in three steps:

1. **claim** the key with a first-write save (`in_flight`, short TTL). Only one request can
   claim a key; a concurrent duplicate finds the claim and is answered 409 at once.
2. run the request, passing its response through to the client while keeping a copy;
3. a **2xx** response is stored under the key (`done`, long TTL) and replayed to every later
   request with the same key (header `Idempotent-Replayed: true`); any other outcome releases
   the claim, so a retry runs again (a refused request applied nothing).

Keys are scoped by the caller: `<tenant>:<terminal>` for a terminal, `<tenant>:<kind>:<subject>`
otherwise, taken from the verified credential (never from the request alone), or the digest
of the terminal's API key when its terminal id is only in the path, so one terminal can neither
see nor block another's keys. The same key with a different request (method, path,
query or body) is refused with 422. When the state store is down the request is refused with
503 rather than run without protection.

Records live in the Dapr state store (`statestore` by default) with `ttlInSeconds`, so every
replica of a service sees them. If a process dies mid-request its claim expires after
`in_flight_seconds` and the key can be used again.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any, Protocol

import structlog
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .clients.dapr import DaprClientHelper
from .envelope import error_body
from .errors import AppError, ConflictError, ErrorCode
from .messages import language_from_header, user_message

log = structlog.get_logger(__name__)

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
KEY_PATTERN = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")
DEFAULT_TTL_SECONDS = 86_400
DEFAULT_IN_FLIGHT_SECONDS = 60
IN_FLIGHT = "in_flight"
DONE = "done"
# Response headers worth replaying (the body's type and service-specific `x-` headers); the
# request id, length and date belong to the replaying response.
_SKIPPED_HEADERS = frozenset({b"content-length", b"x-request-id", b"date", b"server"})
_HEADER_NAME = HEADER.lower().encode()


class IdempotencyStore(Protocol):
    """Where claims and responses are kept (a Dapr state store in production)."""

    async def claim(self, key: str, record: dict[str, Any], ttl_seconds: int) -> bool:
        """Create the record only if the key is free; False when it exists."""
        ...

    async def get(self, key: str) -> dict[str, Any] | None: ...

    async def put(self, key: str, record: dict[str, Any], ttl_seconds: int) -> None: ...

    async def release(self, key: str) -> None: ...


class DaprIdempotencyStore:
    """Records in a Dapr state store; the claim is a first-write save (409 when taken)."""

    def __init__(self, dapr: DaprClientHelper, store: str = "statestore") -> None:
        self.dapr = dapr
        self.store = store

    async def claim(self, key: str, record: dict[str, Any], ttl_seconds: int) -> bool:
        try:
            await self.dapr.save_state(
                self.store, key, record, ttl_seconds=ttl_seconds, first_write=True
            )
        except ConflictError:
            return False
        return True

    async def get(self, key: str) -> dict[str, Any] | None:
        entry = await self.dapr.get_state(self.store, key)
        if entry is None or not isinstance(entry.value, dict):
            return None
        return entry.value

    async def put(self, key: str, record: dict[str, Any], ttl_seconds: int) -> None:
        await self.dapr.save_state(self.store, key, record, ttl_seconds=ttl_seconds)

    async def release(self, key: str) -> None:
        await self.dapr.delete_state(self.store, key)


class MemoryIdempotencyStore:
    """In-process records with expiry: for tests and single-process tools."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self.records: dict[str, tuple[dict[str, Any], float]] = {}

    def _live(self, key: str) -> dict[str, Any] | None:
        found = self.records.get(key)
        if found is None:
            return None
        record, expires = found
        if expires <= self._clock():
            del self.records[key]
            return None
        return record

    async def claim(self, key: str, record: dict[str, Any], ttl_seconds: int) -> bool:
        if self._live(key) is not None:
            return False
        self.records[key] = (record, self._clock() + ttl_seconds)
        return True

    async def get(self, key: str) -> dict[str, Any] | None:
        return self._live(key)

    async def put(self, key: str, record: dict[str, Any], ttl_seconds: int) -> None:
        self.records[key] = (record, self._clock() + ttl_seconds)

    async def release(self, key: str) -> None:
        self.records.pop(key, None)


# Who is calling, as a string that scopes the keys; None = not verifiable (no idempotency:
# the request goes on and its own authentication answers it).
type ScopeResolver = Callable[[Request], Awaitable[str | None]]


async def principal_scope(request: Request) -> str | None:
    """The caller from the app's `Authenticator` (`app.state.auth`): bearer token first, else
    `X-API-KEY` with the `terminal_id` query parameter (as `get_principal` does)."""
    auth = getattr(request.app.state, "auth", None)
    if auth is None:
        return None
    try:
        authorization = request.headers.get("authorization", "")
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() == "bearer" and token:
            principal = auth.codec.principal(token.strip())
        else:
            api_key = request.headers.get("x-api-key")
            if not api_key:
                return None
            terminal_id = request.query_params.get("terminal_id")
            if not terminal_id or auth.api_key_resolver is None:
                # The terminal id is in the path, which routing has not parsed yet. The key's
                # digest scopes the records just as well: nobody can produce it without the
                # key, and a request the route then refuses releases its claim.
                return "key:" + hashlib.sha256(api_key.encode("utf-8")).hexdigest()[:40]
            principal = await auth.api_key_resolver(terminal_id, api_key)
    except AppError:
        return None
    if principal.terminal_id:
        return f"{principal.tenant_id}:{principal.terminal_id}"
    return f"{principal.tenant_id}:{principal.kind.value}:{principal.subject}"


def record_key(scope: str, key: str) -> str:
    return f"idempotency:{scope}:{key}"


def fingerprint(method: str, path: str, query: bytes, body: bytes) -> str:
    digest = hashlib.sha256()
    for part in (method.encode(), path.encode(), query, body):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


@dataclass(slots=True)
class _Captured:
    status: int = 0
    headers: list[tuple[bytes, bytes]] | None = None
    body: bytearray | None = None
    complete: bool = False


class IdempotencyMiddleware:
    """Add innermost (inside the request-context middleware) so errors carry the request id
    and the body-size cap applies: `app.user_middleware.append(Middleware(...))` before the
    first request."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        store: IdempotencyStore,
        scope_of: ScopeResolver = principal_scope,
        ttl_seconds: int = DEFAULT_TTL_SECONDS,
        in_flight_seconds: int = DEFAULT_IN_FLIGHT_SECONDS,
        methods: Iterable[str] = ("POST",),
    ) -> None:
        self.app = app
        self.store = store
        self.scope_of = scope_of
        self.ttl_seconds = ttl_seconds
        self.in_flight_seconds = in_flight_seconds
        self.methods = frozenset(m.upper() for m in methods)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in self.methods:
            await self.app(scope, receive, send)
            return
        raw_key = _header(scope, _HEADER_NAME)
        if raw_key is None:
            await self.app(scope, receive, send)
            return
        if not KEY_PATTERN.fullmatch(raw_key):
            await _send_error(
                scope,
                send,
                400,
                ErrorCode.INVALID_FORMAT,
                f"{HEADER} must be 1-128 characters of letters, digits, '.', '_', ':' or '-'",
            )
            return
        caller = await self.scope_of(Request(scope))
        if caller is None:
            await self.app(scope, receive, send)
            return
        body = await _read_body(receive)
        replay_receive = _replaying(body, receive)
        key = record_key(caller, raw_key)
        print_ = fingerprint(scope["method"], scope["path"], scope.get("query_string", b""), body)
        try:
            claimed = await self.store.claim(
                key, {"status": IN_FLIGHT, "fingerprint": print_}, self.in_flight_seconds
            )
            existing = None if claimed else await self.store.get(key)
            if not claimed and existing is None:
                # The holder finished with an error (released) or its claim just expired.
                claimed = await self.store.claim(
                    key, {"status": IN_FLIGHT, "fingerprint": print_}, self.in_flight_seconds
                )
                existing = None if claimed else await self.store.get(key)
        except AppError as exc:
            log.warning("idempotency_store_unavailable", error=exc.message)
            await _send_error(
                scope,
                send,
                503,
                ErrorCode.SERVICE_UNAVAILABLE,
                f"{HEADER} cannot be honoured now (state store unavailable); retry later",
            )
            return
        if not claimed:
            await self._answer_duplicate(scope, send, existing, print_)
            return
        captured = _Captured()
        try:
            await self.app(scope, replay_receive, _capturing(send, captured))
        except BaseException:
            await self._release(key)
            raise
        if captured.complete and 200 <= captured.status < 300:
            await self._store_response(key, print_, captured)
        else:
            await self._release(key)

    async def _answer_duplicate(
        self, scope: Scope, send: Send, existing: dict[str, Any] | None, print_: str
    ) -> None:
        if existing is None or existing.get("status") == IN_FLIGHT:
            if existing is not None and existing.get("fingerprint") != print_:
                await _reused(scope, send)
                return
            await _send_error(
                scope,
                send,
                409,
                ErrorCode.CONFLICT,
                f"A request with this {HEADER} is still in progress; retry later",
            )
            return
        if existing.get("fingerprint") != print_:
            await _reused(scope, send)
            return
        response = existing.get("response") or {}
        headers = [
            (name.encode("latin-1"), value.encode("latin-1"))
            for name, value in response.get("headers", [])
        ]
        content = base64.b64decode(response.get("body", ""))
        headers.append((b"content-length", str(len(content)).encode()))
        headers.append((REPLAYED_HEADER.lower().encode(), b"true"))
        await send(
            {
                "type": "http.response.start",
                "status": int(response.get("status", 200)),
                "headers": headers,
            }
        )
        await send({"type": "http.response.body", "body": content})

    async def _store_response(self, key: str, print_: str, captured: _Captured) -> None:
        headers = [
            (name.decode("latin-1"), value.decode("latin-1"))
            for name, value in captured.headers or []
            if name.lower() not in _SKIPPED_HEADERS
        ]
        record = {
            "status": DONE,
            "fingerprint": print_,
            "response": {
                "status": captured.status,
                "headers": headers,
                "body": base64.b64encode(bytes(captured.body or b"")).decode("ascii"),
            },
        }
        try:
            await self.store.put(key, record, self.ttl_seconds)
        except AppError as exc:
            # The response went out; the claim expires and a later retry would run again.
            log.warning("idempotency_store_failed", error=exc.message)

    async def _release(self, key: str) -> None:
        try:
            await self.store.release(key)
        except AppError as exc:
            log.warning("idempotency_release_failed", error=exc.message)


def _header(scope: Scope, name: bytes) -> str | None:
    for header, value in scope["headers"]:
        if header == name:
            return value.decode("latin-1").strip()
    return None


async def _read_body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replaying(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


def _capturing(send: Send, captured: _Captured) -> Send:
    async def capture(message: Message) -> None:
        if message["type"] == "http.response.start":
            captured.status = message["status"]
            captured.headers = list(message.get("headers", []))
            captured.body = bytearray()
        elif message["type"] == "http.response.body" and captured.body is not None:
            captured.body.extend(message.get("body", b""))
            if not message.get("more_body", False):
                captured.complete = True
        await send(message)

    return capture


async def _reused(scope: Scope, send: Send) -> None:
    await _send_error(
        scope,
        send,
        422,
        ErrorCode.INVALID_INPUT,
        f"This {HEADER} was already used for a different request",
    )


async def _send_error(scope: Scope, send: Send, status: int, code: str, message: str) -> None:
    language = language_from_header(_header(scope, b"accept-language"))
    route = scope.get("route")
    body = json.dumps(
        error_body(
            code=code,
            message=message,
            user_message=user_message(code, language),
            operation=getattr(route, "name", None),
        ),
        ensure_ascii=False,
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
