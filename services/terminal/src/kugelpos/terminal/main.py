"""The Terminal service application."""

from __future__ import annotations

from fastapi import FastAPI

from kugelpos.common.web.app import create_app

from .auth.router import router as auth_router
from .config import get_settings
from .delivery.router import router as delivery_router
from .lifecycle.router import router as lifecycle_router
from .offline.router import router as offline_router
from .stores.router import router as stores_router
from .tenants.router import router as tenants_router
from .terminals.router import router as terminals_router
from .wiring import TerminalWiring

WELCOME = "Welcome to Kugel-POS Terminal API. supported version: v1"


def build_app() -> FastAPI:
    return create_app(
        TerminalWiring(get_settings()),
        title="Kugel POS Terminal",
        routers=[
            tenants_router,
            stores_router,
            auth_router,
            # The product's /terminals/open, /close, /cash-in-out before /terminals/{id}.
            lifecycle_router,
            offline_router,
            terminals_router,
            delivery_router,
        ],
        welcome=WELCOME,
    )


app = build_app()
