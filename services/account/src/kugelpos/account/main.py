"""The Account service application."""

from __future__ import annotations

from fastapi import FastAPI

from kugelpos.common.web.app import create_app

from .config import get_settings
from .tokens.router import router as tokens_router
from .users.router import router as users_router
from .wiring import AccountWiring

WELCOME = "Welcome to Kugel-POS Auth API. supported version: v1"


def build_app() -> FastAPI:
    return create_app(
        AccountWiring(get_settings()),
        title="Kugel POS Account",
        routers=[tokens_router, users_router],
        welcome=WELCOME,
    )


app = build_app()
