"""The Report service application."""

from __future__ import annotations

from fastapi import FastAPI

from kugelpos.common.web.app import create_app, get_event_consumer
from kugelpos.common.web.dead_letters import dead_letters_router
from kugelpos.common.web.tenant_setup import tenant_setup_router

from .config import get_settings
from .reports.router import router as reports_router
from .transactions.router import router as transactions_router
from .wiring import ReportWiring

# The v1 text, typo included, is what clients compare against.
WELCOME = "Welcome to Kugel-POS Report API. supoorted version: v1"


def build_app() -> FastAPI:
    wiring = ReportWiring(get_settings())
    return create_app(
        wiring,
        title="Kugel POS Report",
        routers=[
            tenant_setup_router(get_event_consumer),
            reports_router,
            transactions_router,
            dead_letters_router(wiring.consumer),
        ],
        welcome=WELCOME,
    )


app = build_app()
