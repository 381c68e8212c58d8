"""The Terminal service application."""

from __future__ import annotations

from fastapi import FastAPI

from kugelpos.common.web.app import create_app

from . import errors  # noqa: F401  (registers the 406xxx/407xxx messages)
from .auth.router import router as auth_router
from .config import get_settings
from .delivery.router import router as delivery_router
from .dependencies import terminal_credentials
from .events import TerminalEvents
from .lifecycle.router import router as lifecycle_router
from .stores.router import router as stores_router
from .tenants.router import router as tenants_router
from .terminals.router import router as terminals_router

WELCOME = "Welcome to Kugel-POS Terminal API. supported version: v1"


def build_app() -> FastAPI:
    settings = get_settings()
    events = TerminalEvents(settings)
    return create_app(
        settings=settings,
        title="Kugel POS Terminal",
        db_prefix=settings.db_name_prefix,
        routers=[
            tenants_router,
            stores_router,
            auth_router,
            # The product's /terminals/open, /close, /cash-in-out before /terminals/{id}.
            lifecycle_router,
            terminals_router,
            delivery_router,
            # Not `subscriptions=`: the terminal announces `terminal_changed` and caches no
            # approvals, so it does not listen to it.
            events.subscriptions.router(),
        ],
        welcome=WELCOME,
        terminal_credentials=terminal_credentials,
        # `background_jobs` (the outbox relay), as v1 dashboards read it.
        extra_checks=events.health_checks,
        on_startup=[events.start],
        on_shutdown=[events.stop],
    )


app = build_app()
