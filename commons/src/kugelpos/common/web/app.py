"""The application factory every service uses, so all seven share one shape:
envelope errors, correlation ids, access logs, `/health`, `/metrics`, CORS and clients."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from contextlib import asynccontextmanager
from typing import Annotated, Any

import redis.asyncio as aioredis
from fastapi import APIRouter, Depends, FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse, Response
from starlette.requests import HTTPConnection
from starlette.routing import BaseRoute

from ..auth.access import publish_policies
from ..auth.dependencies import Authenticator
from ..events.changes import BROADCAST_PUBSUB, TERMINAL_CHANGED, TerminalChange
from ..events.consumer import EventConsumer
from ..events.subscriptions import CloudEvent, Outcome
from ..idempotency import DaprIdempotencyStore, IdempotencyMiddleware, IdempotencyStore
from ..infrastructure import Infrastructure
from ..observability.health import HealthCheck, HealthStatus, run_checks
from ..observability.middleware import RequestContextMiddleware
from ..wiring import ConsumerWiring, Wiring
from .handlers import install_exception_handlers

MAX_BODY_BYTES = 1024 * 1024


async def get_wiring(connection: HTTPConnection) -> Wiring[Any]:
    """FastAPI dependency: the app's `Wiring` (HTTP and WebSocket routes alike). Each service
    aliases it with its own type: `Annotated[CartWiring, Depends(get_wiring)]`."""
    return connection.app.state.wiring


async def get_event_consumer(
    wiring: Annotated[ConsumerWiring[Any], Depends(get_wiring)],
) -> EventConsumer:
    """FastAPI dependency: the event consumer of a service whose wiring is a `ConsumerWiring`
    (its tenant set-up, its direct transaction intake)."""
    return wiring.consumer


def default_health_checks(infra: Infrastructure) -> dict[str, HealthCheck]:
    async def mongodb() -> None:
        await infra.mongo.ping()

    async def dapr() -> None:
        if not await infra.dapr.healthz():
            raise RuntimeError("sidecar not healthy")

    checks: dict[str, HealthCheck] = {"mongodb": mongodb, "dapr_sidecar": dapr}
    if infra.settings.redis_url:
        url = infra.settings.redis_url

        async def redis() -> None:
            client = aioredis.from_url(url, socket_connect_timeout=2)
            try:
                await client.ping()
            finally:
                await client.aclose()

        checks["redis"] = redis
    return checks


def create_app(
    wiring: Wiring[Any],
    *,
    title: str,
    routers: Sequence[APIRouter],
    welcome: str,
    idempotency_store: IdempotencyStore | None = None,
) -> FastAPI:
    """The app of one service: its `wiring` (the typed process-wide objects and the hooks
    this calls: terminal credentials, subscriptions, health checks, start and stop), its
    routers, and everything every service shares."""
    settings, infra = wiring.settings, wiring.infra
    credentials = wiring.terminal_credentials()
    subscriptions = wiring.subscriptions
    if credentials is not None:
        infra.auth.terminals = credentials
        infra.auth.api_keys = wiring.api_keys
        if subscriptions is not None and wiring.drops_terminal_approvals:
            subscriptions.add(
                TERMINAL_CHANGED, terminal_change_handler(infra.auth), pubsub=BROADCAST_PUBSUB
            )
    checks = {**default_health_checks(infra), **wiring.health_checks()}

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await wiring.start()
        try:
            yield
        finally:
            await wiring.stop()
            await infra.close()

    app = FastAPI(title=title, version=settings.service_version, lifespan=lifespan)
    app.state.wiring = wiring
    app.state.auth = infra.auth
    install_exception_handlers(app)
    # Innermost (added first), so the request id and the body-size cap apply to its answers.
    app.add_middleware(
        IdempotencyMiddleware,
        store=idempotency_store or DaprIdempotencyStore(infra.dapr, settings.idempotency_store),
        ttl_seconds=settings.idempotency_ttl_seconds,
        in_flight_seconds=settings.idempotency_in_flight_seconds,
    )
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.cors_origins,
        allow_methods=["*"],
        allow_headers=["*"],
        expose_headers=["X-New-Token", "X-Request-ID", "Idempotent-Replayed"],
        allow_credentials="*" not in settings.cors_origins,
    )
    app.add_middleware(
        RequestContextMiddleware, metrics=infra.metrics, max_body_bytes=MAX_BODY_BYTES
    )

    @app.get("/", include_in_schema=True, tags=["meta"])
    async def root() -> dict[str, str]:
        return {"message": welcome}

    @app.get("/health", tags=["meta"])
    async def health() -> JSONResponse:
        result = await run_checks(settings.service_name, settings.service_version, checks)
        status = 200 if result.status is HealthStatus.HEALTHY else 503
        return JSONResponse(result.model_dump(mode="json"), status_code=status)

    @app.get("/metrics", include_in_schema=False)
    async def metrics() -> Response:
        # `render_async` runs the scrape hooks first (e.g. the outbox backlog, read from the
        # database at most every few seconds).
        body = await infra.metrics.render_async()
        return Response(body, media_type=infra.metrics.content_type)

    for router in routers:
        app.include_router(router)
    if subscriptions is not None:
        app.include_router(subscriptions.router(include_in_schema=wiring.subscriptions_in_schema))
    _publish_access_policies(app)
    return app


def api_routes(routes: Sequence[BaseRoute]) -> Iterator[BaseRoute]:
    """Every route of an app, routers included (FastAPI keeps included routers nested)."""
    for route in routes:
        nested = getattr(route, "original_router", None)
        if nested is not None:
            yield from api_routes(nested.routes)
        else:
            yield route


def _publish_access_policies(app: FastAPI) -> None:
    """The served OpenAPI names who may call each operation (`x-kugelpos-access`)."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = publish_policies(build(), api_routes(app.routes))
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def terminal_change_handler(auth: Authenticator) -> Callable[[CloudEvent], Awaitable[Outcome]]:
    """`terminal_changed`: drop every cached approval of the terminal, so its rotated key,
    deletion or closing takes effect here at once, not when a TTL runs out."""

    async def on_terminal_changed(event: CloudEvent) -> Outcome:
        change = TerminalChange.from_event(event.data)
        if change is None:
            return Outcome.DROP
        await auth.forget_terminal(change.terminal_id)
        return Outcome.SUCCESS

    return on_terminal_changed
