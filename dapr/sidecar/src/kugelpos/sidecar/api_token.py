"""Dapr API token authentication (DAPR_API_TOKEN, the `dapr-api-token` header), per app.

daprd serves one app, so one token proves "this is my app". This sidecar serves several apps on
one port, so it holds one token per app id and the token a call presents says which app is
calling: that app's component scopes, topic scopes and access-control policies apply, as they
would in that app's own daprd. With no token configured the API is open, as daprd's is without
DAPR_API_TOKEN, and the caller may name itself with a `dapr-app-id` header.

A call without a valid token gets what daprd answers: 401 with the plain-text body
`invalid api token`. `GET /v1.0/healthz` and `/v1.0/healthz/outbound` stay open (probes).
"""

from __future__ import annotations

import hmac
from collections.abc import Iterable

from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from kugelpos.sidecar.logs import log

API_TOKEN_HEADER = b"dapr-api-token"
APP_ID_HEADER = "dapr-app-id"
# Where the middleware leaves the verified caller's app id for the handlers.
CALLER = "kugelpos.sidecar.caller"
_OPEN_PATHS = frozenset({"v1.0/healthz", "v1.0/healthz/outbound"})
_REFUSAL = b"invalid api token\n"


class ApiTokens:
    """app id -> token. Lookups compare against every token in constant time."""

    def __init__(self, tokens: Iterable[tuple[str, str]] = ()) -> None:
        self._tokens = [(app_id, token.encode()) for app_id, token in tokens]

    @property
    def enabled(self) -> bool:
        return bool(self._tokens)

    def app_for(self, given: bytes) -> str | None:
        found = None
        for app_id, token in self._tokens:
            # No early exit: how long this takes does not say which token came close.
            if hmac.compare_digest(given, token):
                found = app_id
        return found


def _open(method: str, path: str) -> bool:
    """daprd's isRouteExcludedFromAPITokenAuth: GET of the two health endpoints only."""
    return method == "GET" and path.strip("/") in _OPEN_PATHS


class ApiTokenMiddleware:
    """Pure ASGI: the check is one header scan and a few digest comparisons per call."""

    def __init__(self, app: ASGIApp, tokens: ApiTokens) -> None:
        self.app = app
        self.tokens = tokens

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.tokens.enabled:
            await self.app(scope, receive, send)
            return
        given = next((v for k, v in scope["headers"] if k == API_TOKEN_HEADER), b"")
        caller = self.tokens.app_for(given) if given else None
        if caller is None and not _open(scope["method"], scope["path"]):
            log.warning(
                "api_token_refused",
                method=scope["method"],
                path=scope["path"],
                token_given=bool(given),
            )
            await send(
                {
                    "type": "http.response.start",
                    "status": 401,
                    "headers": [
                        (b"content-type", b"text/plain; charset=utf-8"),
                        (b"x-content-type-options", b"nosniff"),
                        (b"content-length", str(len(_REFUSAL)).encode()),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": _REFUSAL})
            return
        scope[CALLER] = caller
        await self.app(scope, receive, send)


def verified_caller(request: Request) -> str | None:
    """The app whose token the call presented; None when the sidecar has no tokens."""
    return request.scope.get(CALLER)


def caller_id(request: Request, default: str) -> str:
    """Who is calling, for scopes and CloudEvent `source`: the verified app, else (no tokens
    configured) the app the call names in `dapr-app-id`, else `default` (the sidecar's id)."""
    verified = request.scope.get(CALLER)
    if verified is not None:
        return verified
    return request.headers.get(APP_ID_HEADER) or default
