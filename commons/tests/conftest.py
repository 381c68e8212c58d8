"""Shared fixtures of the commons unit tests: settings that never connect, and a factory for
small apps built with `create_app` exactly as a service builds its own (a `Wiring` subclass
whose hooks the test gives)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any

import httpx
import pytest
import pytest_asyncio
from fastapi import APIRouter, FastAPI

from kugelpos.common.settings import CommonSettings
from kugelpos.common.web.app import create_app
from kugelpos.common.wiring import Wiring

# Nothing listens on these: a test that reaches them by mistake fails fast.
UNUSED_MONGO = "mongodb://127.0.0.1:9/?directConnection=true&serverSelectionTimeoutMS=200"
UNUSED_DAPR = "http://127.0.0.1:9"
TEST_SECRET = "unit-test-secret-key-0123456789abcdef"


@pytest.fixture
def settings() -> CommonSettings:
    return CommonSettings(
        environment="development",
        service_name="commons-test",
        mongodb_uri=UNUSED_MONGO,
        dapr_http_endpoint=UNUSED_DAPR,
        secret_key=TEST_SECRET,
        pubsub_notify_api_key="notify-key-for-tests-0123456789abcdef",
    )


type AppFactory = Callable[..., FastAPI]


@pytest.fixture
def make_app(settings: CommonSettings) -> AppFactory:
    """`make_app(routers, settings=..., idempotency_store=..., **hooks)`: `hooks` are what a
    service's `Wiring` subclass overrides (`terminal_credentials=lambda self: resolver`,
    `health_checks=...`, `start=...`, `subscriptions=...`)."""

    def factory(
        routers: Sequence[APIRouter] = (),
        *,
        settings: CommonSettings = settings,
        idempotency_store: Any = None,
        **hooks: Any,
    ) -> FastAPI:
        wiring_type = type("TestWiring", (Wiring,), hooks)
        return create_app(
            wiring_type(settings, db_prefix="db_test"),
            title="commons-test",
            routers=routers,
            welcome="Welcome to the commons test app",
            idempotency_store=idempotency_store,
        )

    return factory


type ClientFactory = Callable[..., httpx.AsyncClient]


@pytest_asyncio.fixture
async def client_for() -> AsyncIterator[ClientFactory]:
    """`client_for(app)`: an httpx client talking to the app in-process (no lifespan, no
    network). `raise_app_exceptions=False` lets a test see the 500 envelope."""
    clients: list[httpx.AsyncClient] = []

    def factory(app: FastAPI, *, raise_app_exceptions: bool = True) -> httpx.AsyncClient:
        transport = httpx.ASGITransport(
            app=app, raise_app_exceptions=raise_app_exceptions, client=("203.0.113.7", 5555)
        )
        client = httpx.AsyncClient(transport=transport, base_url="http://testserver")
        clients.append(client)
        return client

    yield factory
    for client in clients:
        await client.aclose()
