"""The Stock service application."""

from __future__ import annotations

from fastapi import FastAPI

from kugelpos.common.web.app import create_app, get_event_consumer
from kugelpos.common.web.dead_letters import dead_letters_router
from kugelpos.common.web.tenant_setup import tenant_setup_router

from .adjustments.router import router as adjustments_router
from .alerts.router import router as alerts_router
from .config import get_settings
from .counts.router import router as counts_router
from .movements.router import router as movements_router
from .receipts.router import router as receipts_router
from .schedules.router import router as schedules_router
from .snapshots.router import router as snapshots_router
from .stocks.router import router as stocks_router
from .transfers.router import router as transfers_router
from .valuation.router import router as valuation_router
from .wiring import StockWiring

WELCOME = "Welcome to Kugel-POS Stock API. supported version: v1"


def build_app() -> FastAPI:
    wiring = StockWiring(get_settings())
    return create_app(
        wiring,
        title="Kugel POS Stock",
        routers=[
            tenant_setup_router(get_event_consumer),
            # Fixed segments (snapshot, snapshots, adjustments, ...) before `{item_code}`.
            snapshots_router,
            adjustments_router,
            receipts_router,
            counts_router,
            valuation_router,
            movements_router,
            stocks_router,
            schedules_router,
            transfers_router,
            alerts_router,
            dead_letters_router(wiring.consumer),
        ],
        welcome=WELCOME,
    )


app = build_app()
