"""The Cart service application."""

from __future__ import annotations

from fastapi import FastAPI

from kugelpos.common.observability.health import HealthCheck, state_store_check
from kugelpos.common.web.app import Infrastructure, create_app

from . import errors  # noqa: F401  (registers the 40xxxx messages)
from .cache.masters import MasterDataClient
from .cache.router import router as cache_router
from .cache.terminals import TerminalInfoCache
from .carts.repository import CartStore
from .carts.router import router as carts_router
from .config import CartSettings, get_settings
from .events import CartEvents
from .plugins.registry import load_plugins
from .tenants.router import router as tenants_router
from .transactions.router import router as transactions_router

WELCOME = "Welcome to Kugel-POS Cart API. supported version: v1"


def terminal_cache(settings: CartSettings):
    def factory(infra: Infrastructure) -> TerminalInfoCache:
        cache = TerminalInfoCache(
            infra.http,
            infra.dapr,
            settings.base_url_terminal,
            store=settings.terminal_store,
            store_ttl_seconds=settings.terminal_cache_ttl_seconds,
            local_ttl_seconds=settings.terminal_local_cache_seconds,
            stale_max_age=settings.terminal_credential_stale_seconds,
            on_stale=lambda: infra.metrics.fallback("terminal", "credential"),
        )
        infra.extras["terminal_cache"] = cache
        return cache

    return factory


def health_checks(settings: CartSettings, events: CartEvents):
    """`dapr_cartstore` (a read of the cart store) and, from the event machinery,
    `background_jobs` (the relay), the checks v1 dashboards read."""

    def checks(infra: Infrastructure) -> dict[str, HealthCheck]:
        cartstore = state_store_check(infra.dapr, settings.cart_store)
        return {"dapr_cartstore": cartstore, **events.health_checks(infra)}

    return checks


def build_app() -> FastAPI:
    settings = get_settings()
    plugins = load_plugins(settings.plugins_file)
    events = CartEvents(settings)
    app = create_app(
        settings=settings,
        title="Kugel POS Cart",
        db_prefix=settings.db_name_prefix,
        routers=[
            tenants_router,
            carts_router,
            transactions_router,
            cache_router,
        ],
        welcome=WELCOME,
        terminal_credentials=terminal_cache(settings),
        subscriptions=events.subscriptions,
        extra_checks=health_checks(settings, events),
        on_startup=[events.start],
        on_shutdown=[events.stop],
    )
    infra: Infrastructure = app.state.infra
    infra.extras["plugins"] = plugins
    infra.extras["cart_store"] = CartStore(
        infra.dapr, settings.cart_store, settings.cart_ttl_seconds
    )
    infra.extras["masters"] = MasterDataClient(
        infra.http,
        infra.auth.codec,
        base_url_master_data=settings.base_url_master_data,
        base_url_terminal=settings.base_url_terminal,
        ttl=settings.master_cache_ttl_seconds,
        max_entries=settings.master_cache_max_entries,
        stale_max_age=settings.master_stale_max_age_seconds,
        on_stale=lambda read: infra.metrics.fallback("master-data", read),
    )
    return app


app = build_app()
