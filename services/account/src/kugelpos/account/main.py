"""The Account service application."""

from __future__ import annotations

from fastapi import FastAPI

from kugelpos.common.auth.remote_terminal import remote_terminal_resolver
from kugelpos.common.web.app import create_app

from .config import get_settings
from .tokens.router import router as tokens_router
from .users.router import router as users_router

WELCOME = "Welcome to Kugel-POS Auth API. supported version: v1"


def build_app() -> FastAPI:
    return create_app(
        settings=get_settings(),
        title="Kugel POS Account",
        db_prefix=get_settings().db_name_prefix,
        routers=[tokens_router, users_router],
        welcome=WELCOME,
        # No route here serves a till, but a terminal JWT is still checked live (a deleted
        # or re-keyed terminal's token is not "valid"); an API key is no credential here.
        terminal_credentials=remote_terminal_resolver,
        api_keys=False,
    )


app = build_app()
