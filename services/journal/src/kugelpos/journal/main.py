"""The Journal service application."""

from __future__ import annotations

from fastapi import FastAPI

from kugelpos.common.web.app import create_app, get_event_consumer
from kugelpos.common.web.dead_letters import dead_letters_router
from kugelpos.common.web.tenant_setup import tenant_setup_router

from .config import get_settings
from .journals.router import router as journals_router
from .transactions.router import router as transactions_router
from .wiring import JournalWiring

# The v1 text, typo included, is what clients compare against.
WELCOME = "Welcome to Kugel-POS Journal API. supoorted version: v1"


def build_app() -> FastAPI:
    wiring = JournalWiring(get_settings())
    return create_app(
        wiring,
        title="Kugel POS Journal",
        routers=[
            tenant_setup_router(get_event_consumer),
            journals_router,
            transactions_router,
            dead_letters_router(wiring.consumer),
        ],
        welcome=WELCOME,
    )


app = build_app()
