"""Declaring Dapr subscriptions on a FastAPI app: `GET /dapr/subscribe` plus one POST route per
topic that unwraps the CloudEvents 1.0 envelope and answers Dapr's status JSON.

    subs = DaprSubscriptions(pubsub="pubsub")

    @subs.subscribe("tranlog_status")
    async def on_status(event: CloudEvent) -> Outcome: ...

    app = create_app(..., routers=[..., subs.router()])

A handler returns SUCCESS (or None), RETRY (redeliver later) or DROP (never redeliver, e.g.
malformed); an exception is logged and answered with RETRY.

Only the sidecar may call the topic routes: with an app API token configured (the app's
`APP_API_TOKEN` setting, or `app_api_token=` here), a request without the same
`dapr-api-token` header gets 401 and its handler never runs. daprd and the local sidecar send
the header on every call when they are given the same APP_API_TOKEN. A request that came
through Dapr service invocation (daprd marks it with `dapr-caller-app-id`) is refused with 403
even with the token: the callee's sidecar attaches the token to an invocation too, so another
app could otherwise reach the route through `/v1.0/invoke/<app>/method/...` (the Configuration's
access control denies that as well; this holds where the platform offers none).
"""

from __future__ import annotations

import contextlib
import hmac
import json
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import structlog
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from ..errors import AuthenticationError, PermissionDeniedError

log = structlog.get_logger(__name__)

APP_API_TOKEN_HEADER = "dapr-api-token"
# The subscriber routes the v1 contract documents (journal, report, stock list them in their
# OpenAPI); the others stay out of the schema.
V1_SUBSCRIBER_ROUTES = frozenset(
    {"/dapr/subscribe", "/api/v1/tranlog", "/api/v1/cashlog", "/api/v1/opencloselog"}
)
# daprd sets it on every service invocation it hands to the app, never on a pub/sub delivery.
CALLER_APP_ID_HEADER = "dapr-caller-app-id"


class Outcome(StrEnum):
    SUCCESS = "SUCCESS"
    RETRY = "RETRY"
    DROP = "DROP"


@dataclass(frozen=True, slots=True)
class CloudEvent:
    id: str
    topic: str
    pubsubname: str
    source: str
    type: str
    data: Any
    attributes: dict[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def parse(cls, body: Any, *, topic: str, pubsub: str) -> CloudEvent:
        """A CloudEvent (structured mode) or, for raw payloads, the body itself as data."""
        if isinstance(body, dict) and "specversion" in body:
            data = body.get("data")
            if data is None and "data_base64" in body:
                data = body["data_base64"]
            if isinstance(data, str) and str(body.get("datacontenttype", "")).endswith("json"):
                with contextlib.suppress(ValueError):
                    data = json.loads(data)
            return cls(
                id=str(body.get("id", "")),
                topic=str(body.get("topic") or topic),
                pubsubname=str(body.get("pubsubname") or pubsub),
                source=str(body.get("source", "")),
                type=str(body.get("type", "")),
                data=data,
                attributes=body,
            )
        return cls(id="", topic=topic, pubsubname=pubsub, source="", type="", data=body)


type Handler = Callable[[CloudEvent], Awaitable[Outcome | None]]


@dataclass(frozen=True, slots=True)
class _Entry:
    pubsub: str
    topic: str
    route: str
    handler: Handler
    dead_letter_topic: str | None
    # A CEL condition on the CloudEvent: only matching messages are delivered (the others are
    # dropped by the sidecar, never sent). None: every message.
    match: str | None = None


def configured_app_token(request: Request) -> str | None:
    """The app's APP_API_TOKEN, from the settings of the wiring `create_app` put on the app."""
    wiring = getattr(request.app.state, "wiring", None)
    settings = getattr(wiring, "settings", None)
    return getattr(settings, "app_api_token", None) or None


def require_sidecar(request: Request, expected: str | None) -> None:
    """Refuse (401) a caller without the app API token, compared in constant time, and (403) a
    request Dapr service invocation brought, which the callee's sidecar gives the token too.

    Without a configured token (development only: settings refuse that elsewhere) every
    caller is accepted, as daprd does for an app without APP_API_TOKEN."""
    if expected is not None:
        given = request.headers.get(APP_API_TOKEN_HEADER, "")
        if not hmac.compare_digest(given.encode(), expected.encode()):
            log.warning("subscription_unauthenticated", path=request.url.path)
            raise AuthenticationError("Only the Dapr sidecar may call this route")
    caller = request.headers.get(CALLER_APP_ID_HEADER)
    if caller is not None:
        log.warning("subscription_invoked", path=request.url.path, caller=caller[:64])
        raise PermissionDeniedError("This route takes pub/sub deliveries, not invocations")


class DaprSubscriptions:
    def __init__(
        self,
        *,
        pubsub: str = "pubsub",
        route_prefix: str = "/events",
        app_api_token: str | None = None,
    ) -> None:
        self.pubsub = pubsub
        self.route_prefix = route_prefix.rstrip("/")
        # None: use the app's configured token (see `configured_app_token`).
        self.app_api_token = app_api_token
        self._entries: list[_Entry] = []

    def subscribe(
        self,
        topic: str,
        *,
        route: str | None = None,
        pubsub: str | None = None,
        dead_letter_topic: str | None = None,
    ) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            self.add(
                topic, handler, route=route, pubsub=pubsub, dead_letter_topic=dead_letter_topic
            )
            return handler

        return register

    def add(
        self,
        topic: str,
        handler: Handler,
        *,
        route: str | None = None,
        pubsub: str | None = None,
        dead_letter_topic: str | None = None,
        match: str | None = None,
    ) -> None:
        path = route or f"{self.route_prefix}/{topic}"
        self._entries.append(
            _Entry(pubsub or self.pubsub, topic, path, handler, dead_letter_topic, match)
        )

    def declaration(self) -> list[dict[str, Any]]:
        """The standard JSON of `GET /dapr/subscribe`."""
        result = []
        for entry in self._entries:
            item: dict[str, Any] = {"pubsubname": entry.pubsub, "topic": entry.topic}
            if entry.match:
                # A rule and no default route: what the rule does not match is not delivered.
                item["routes"] = {"rules": [{"match": entry.match, "path": entry.route}]}
            else:
                item["route"] = entry.route
            if entry.dead_letter_topic:
                item["deadLetterTopic"] = entry.dead_letter_topic
            result.append(item)
        return result

    def router(self, *, include_in_schema: bool | Collection[str] = False) -> APIRouter:
        """`include_in_schema` lists the routes in OpenAPI (a contract that names them): all
        of them (True), or only the paths given."""

        def listed(path: str) -> bool:
            if isinstance(include_in_schema, bool):
                return include_in_schema
            return path in include_in_schema

        router = APIRouter(tags=["dapr"])

        async def dapr_subscribe() -> list[dict[str, Any]]:
            return self.declaration()

        router.add_api_route(
            "/dapr/subscribe",
            dapr_subscribe,
            methods=["GET"],
            include_in_schema=listed("/dapr/subscribe"),
        )
        for entry in self._entries:
            router.add_api_route(
                entry.route,
                self._endpoint(entry),
                methods=["POST"],
                name=f"on_{entry.topic}",
                include_in_schema=listed(entry.route),
            )
        return router

    def _endpoint(self, entry: _Entry) -> Callable[[Request], Awaitable[JSONResponse]]:
        async def receive(request: Request) -> JSONResponse:
            require_sidecar(request, self.app_api_token or configured_app_token(request))
            try:
                body = json.loads(await request.body() or b"null")
            except ValueError:
                log.warning("subscription_bad_body", topic=entry.topic)
                return JSONResponse({"status": Outcome.DROP.value})
            event = CloudEvent.parse(body, topic=entry.topic, pubsub=entry.pubsub)
            try:
                outcome = await entry.handler(event) or Outcome.SUCCESS
            except Exception as exc:  # redelivered later; never a 500 with a stack trace
                log.error(
                    "subscription_handler_failed",
                    topic=entry.topic,
                    event_id=event.id,
                    error=type(exc).__name__,
                    exc_info=exc,
                )
                outcome = Outcome.RETRY
            return JSONResponse({"status": outcome.value})

        return receive
