"""The Cart service application."""

from __future__ import annotations

from fastapi import FastAPI

from kugelpos.common.web.app import create_app

from .cache.router import router as cache_router
from .carts.router import router as carts_router
from .config import get_settings
from .offline.router import router as offline_router
from .tenants.router import router as tenants_router
from .transactions.returns_router import router as returns_router
from .transactions.router import router as transactions_router
from .wiring import CartWiring

WELCOME = "Welcome to Kugel-POS Cart API. supported version: v1"


def build_app() -> FastAPI:
    return create_app(
        CartWiring(get_settings()),
        title="Kugel POS Cart",
        routers=[
            tenants_router,
            carts_router,
            offline_router,
            transactions_router,
            returns_router,
            cache_router,
        ],
        welcome=WELCOME,
    )


app = build_app()
