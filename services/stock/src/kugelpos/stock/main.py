"""The Stock service application."""

from __future__ import annotations

from fastapi import FastAPI

from kugelpos.common.auth.remote_terminal import remote_terminal_resolver
from kugelpos.common.events.subscriptions import V1_SUBSCRIBER_ROUTES
from kugelpos.common.web.app import create_app
from kugelpos.common.web.dead_letters import dead_letters_router

from . import errors as _errors  # noqa: F401  (registers the stock error messages)
from .alerts.router import router as alerts_router
from .config import get_settings
from .events import StockEvents
from .schedules.router import router as schedules_router
from .schedules.scheduler import SnapshotScheduler
from .snapshots.router import router as snapshots_router
from .stocks.router import router as stocks_router
from .tenants.router import router as tenants_router

WELCOME = "Welcome to Kugel-POS Stock API. supported version: v1"


def build_app() -> FastAPI:
    settings = get_settings()
    events = StockEvents()
    scheduler = SnapshotScheduler(settings)
    app = create_app(
        settings=settings,
        title="Kugel POS Stock",
        db_prefix=settings.db_name_prefix,
        routers=[
            tenants_router,
            # Fixed segments (snapshot, snapshots) before `{item_code}`.
            snapshots_router,
            stocks_router,
            schedules_router,
            alerts_router,
            dead_letters_router(events.consumer),
        ],
        welcome=WELCOME,
        terminal_credentials=remote_terminal_resolver,
        subscriptions=events.consumer.subscriptions,
        # The v1 contract documents `POST /api/v1/tranlog` and `GET /dapr/subscribe`.
        subscriptions_in_schema=V1_SUBSCRIBER_ROUTES,
        extra_checks=scheduler.health_checks,
        on_startup=[events.start, scheduler.start],
        on_shutdown=[scheduler.stop],
    )
    return app


app = build_app()
