"""The Stock service application."""

from __future__ import annotations

from fastapi import FastAPI

from kugelpos.common.web.app import create_app
from kugelpos.common.web.dead_letters import dead_letters_router

from . import errors as _errors  # noqa: F401  (registers the stock error messages)
from .alerts.router import router as alerts_router
from .config import get_settings
from .schedules.router import router as schedules_router
from .snapshots.router import router as snapshots_router
from .stocks.router import router as stocks_router
from .tenants.router import router as tenants_router
from .wiring import StockWiring

WELCOME = "Welcome to Kugel-POS Stock API. supported version: v1"


def build_app() -> FastAPI:
    wiring = StockWiring(get_settings())
    return create_app(
        wiring,
        title="Kugel POS Stock",
        routers=[
            tenants_router,
            # Fixed segments (snapshot, snapshots) before `{item_code}`.
            snapshots_router,
            stocks_router,
            schedules_router,
            alerts_router,
            dead_letters_router(wiring.consumer),
        ],
        welcome=WELCOME,
    )


app = build_app()
