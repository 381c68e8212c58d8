"""The Journal service application."""

from __future__ import annotations

from fastapi import FastAPI

from kugelpos.common.auth.remote_terminal import remote_terminal_resolver
from kugelpos.common.events.subscriptions import V1_SUBSCRIBER_ROUTES
from kugelpos.common.web.app import create_app, statestore_checks
from kugelpos.common.web.dead_letters import dead_letters_router

from . import errors as _errors  # noqa: F401  (registers the 410xxx messages)
from .config import get_settings
from .events import JournalEvents
from .journals.router import router as journals_router
from .tenants.router import router as tenants_router
from .transactions.router import router as transactions_router

# The v1 text, typo included, is what clients compare against.
WELCOME = "Welcome to Kugel-POS Journal API. supoorted version: v1"


def build_app() -> FastAPI:
    settings = get_settings()
    events = JournalEvents()
    app = create_app(
        settings=settings,
        title="Kugel POS Journal",
        db_prefix=settings.db_name_prefix,
        routers=[
            tenants_router,
            journals_router,
            transactions_router,
            dead_letters_router(events.consumer),
        ],
        welcome=WELCOME,
        terminal_credentials=remote_terminal_resolver,
        subscriptions=events.consumer.subscriptions,
        # Listed in OpenAPI: the journal's v1 contract names the subscriber routes.
        subscriptions_in_schema=V1_SUBSCRIBER_ROUTES,
        # `dapr_statestore`, as v1 monitors read it (a read, never a write).
        extra_checks=statestore_checks,
        on_startup=[events.consumer.start],
    )
    app.state.consumer = events.consumer
    return app


app = build_app()
