"""The Stored Value service application: gift cards and store credit."""

from __future__ import annotations

from fastapi import FastAPI

from kugelpos.common.web.app import create_app, get_event_consumer
from kugelpos.common.web.dead_letters import dead_letters_router
from kugelpos.common.web.tenant_setup import tenant_setup_router

from .cards.router import router as cards_router
from .config import get_settings
from .expiry.router import router as expiry_router
from .holds.router import router as holds_router
from .liability.router import router as liability_router
from .loads.router import router as loads_router
from .wiring import StoredValueWiring

WELCOME = "Welcome to Kugel-POS Stored Value API. supported version: v1"


def build_app() -> FastAPI:
    wiring = StoredValueWiring(get_settings())
    return create_app(
        wiring,
        title="Kugel POS Stored Value",
        routers=[
            tenant_setup_router(get_event_consumer),
            cards_router,
            holds_router,
            loads_router,
            liability_router,
            expiry_router,
            dead_letters_router(wiring.consumer),
        ],
        welcome=WELCOME,
    )


app = build_app()
