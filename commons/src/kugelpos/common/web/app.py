"""The application factory every service uses, so all seven share one shape:
envelope errors, correlation ids, access logs, `/health`, `/metrics`, CORS and clients."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Collection, Iterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import redis.asyncio as aioredis
from fastapi import APIRouter, FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse, Response
from starlette.routing import BaseRoute

from ..auth.access import publish_policies
from ..auth.dependencies import Authenticator, TerminalCredentials
from ..auth.tokens import TokenCodec
from ..clients.breaker import BreakerRegistry
from ..clients.dapr import DaprClientHelper
from ..clients.http import HttpClientHelper
from ..db.mongo import Mongo
from ..events.changes import BROADCAST_PUBSUB, TERMINAL_CHANGED, TerminalChange
from ..events.subscriptions import CloudEvent, DaprSubscriptions, Outcome
from ..idempotency import DaprIdempotencyStore, IdempotencyMiddleware, IdempotencyStore
from ..observability.health import (
    DAPR_STATESTORE_CHECK,
    HealthCheck,
    HealthStatus,
    run_checks,
    state_store_check,
)
from ..observability.logging import configure_logging
from ..observability.metrics import Metrics
from ..observability.middleware import RequestContextMiddleware
from ..settings import CommonSettings
from ..throttle import AttemptLimiter
from .handlers import install_exception_handlers

MAX_BODY_BYTES = 1024 * 1024


@dataclass
class Infrastructure:
    """Process-wide clients, created once at start-up and shared by every request."""

    settings: CommonSettings
    mongo: Mongo
    http: HttpClientHelper
    dapr: DaprClientHelper
    auth: Authenticator
    metrics: Metrics
    extras: dict[str, Any] = field(default_factory=dict)

    def limiter(
        self,
        namespace: str,
        *,
        free_attempts: int,
        forget_after_seconds: float,
        base_delay_seconds: float,
        max_delay_seconds: float,
    ) -> AttemptLimiter:
        """One limiter per namespace and process: it holds the in-memory fallback records."""
        key = f"limiter:{namespace}"
        limiter = self.extras.get(key)
        if limiter is None:
            limiter = AttemptLimiter(
                self.dapr,
                store=self.settings.throttle_state_store,
                namespace=namespace,
                free_attempts=free_attempts,
                forget_after_seconds=forget_after_seconds,
                base_delay_seconds=base_delay_seconds,
                max_delay_seconds=max_delay_seconds,
            )
            self.extras[key] = limiter
        return limiter

    async def close(self) -> None:
        await self.http.aclose()
        await self.mongo.close()


def build_infrastructure(settings: CommonSettings, db_prefix: str) -> Infrastructure:
    breakers = BreakerRegistry(
        failure_threshold=settings.breaker_failure_threshold,
        reset_timeout=settings.breaker_reset_seconds,
    )
    http = HttpClientHelper(
        timeout=settings.http_timeout_seconds,
        max_attempts=settings.http_max_attempts,
        backoff=settings.http_backoff_seconds,
        breakers=breakers,
    )
    metrics = Metrics(settings.service_name)
    metrics.watch_breakers(breakers.items)
    return Infrastructure(
        settings=settings,
        mongo=Mongo(settings, prefix=db_prefix),
        http=http,
        dapr=DaprClientHelper(
            http,
            settings.dapr_http_endpoint,
            settings.service_name,
            api_token=settings.dapr_api_token,
        ),
        auth=Authenticator(
            TokenCodec(settings.secret_key, settings.algorithm),
            notify_api_key=settings.pubsub_notify_api_key,
        ),
        metrics=metrics,
    )


async def infrastructure(request: Request) -> Infrastructure:
    """FastAPI dependency: the process-wide clients."""
    return request.app.state.infra


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


def statestore_checks(infra: Infrastructure) -> dict[str, HealthCheck]:
    """`dapr_statestore` as v1 named it: a read (never a write) of the state store the service
    keeps its `Idempotency-Key` records and attempt counters in. For `extra_checks`."""
    store = infra.settings.idempotency_store
    return {DAPR_STATESTORE_CHECK: state_store_check(infra.dapr, store)}


type Hook = Callable[[Infrastructure], Awaitable[None]]


def create_app(
    *,
    settings: CommonSettings,
    title: str,
    db_prefix: str,
    routers: Sequence[APIRouter],
    welcome: str,
    terminal_credentials: Callable[[Infrastructure], TerminalCredentials] | None = None,
    api_keys: bool = True,
    subscriptions: DaprSubscriptions | None = None,
    subscriptions_in_schema: bool | Collection[str] = False,
    extra_checks: Callable[[Infrastructure], dict[str, HealthCheck]] | None = None,
    on_startup: Sequence[Hook] = (),
    on_shutdown: Sequence[Hook] = (),
    idempotency_store: IdempotencyStore | None = None,
) -> FastAPI:
    configure_logging(settings.service_name, settings.log_level)
    infra = build_infrastructure(settings, db_prefix)
    if terminal_credentials is not None:
        infra.auth.terminals = terminal_credentials(infra)
        infra.auth.api_keys = api_keys
        if subscriptions is not None:
            subscriptions.add(
                TERMINAL_CHANGED, terminal_change_handler(infra.auth), pubsub=BROADCAST_PUBSUB
            )
    checks = {**default_health_checks(infra), **(extra_checks(infra) if extra_checks else {})}

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        for hook in on_startup:
            await hook(infra)
        try:
            yield
        finally:
            for hook in on_shutdown:
                await hook(infra)
            await infra.close()

    app = FastAPI(title=title, version=settings.service_version, lifespan=lifespan)
    app.state.infra = infra
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
        app.include_router(subscriptions.router(include_in_schema=subscriptions_in_schema))
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
