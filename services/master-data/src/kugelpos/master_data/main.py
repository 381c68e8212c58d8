"""The Master-data service application."""

from __future__ import annotations

from fastapi import FastAPI

from kugelpos.common.web.app import create_app

from .categories.router import router as categories_router
from .changes.router import router as sync_router
from .config import get_settings
from .item_books.router import router as item_books_router
from .items.router import router as items_router
from .parameters.router import router as parameters_router
from .payments.router import router as payments_router
from .promotions.router import router as promotions_router
from .return_reasons.router import router as return_reasons_router
from .staff.router import router as staff_router
from .store_items.router import router as store_items_router
from .taxes.router import router as taxes_router
from .tenants.router import router as tenants_router
from .wiring import MasterDataWiring

# The v1 text, typo included, is what clients compare against.
WELCOME = "Welcome to Kugel-POS Master-data Service API. supoorted version: v1"


def build_app() -> FastAPI:
    return create_app(
        MasterDataWiring(get_settings()),
        title="Kugel POS Master-data",
        routers=[
            tenants_router,
            staff_router,
            items_router,
            # Before the store items: `POST .../items/prices-at` is not an item code.
            sync_router,
            store_items_router,
            categories_router,
            item_books_router,
            payments_router,
            parameters_router,
            taxes_router,
            promotions_router,
            return_reasons_router,
        ],
        welcome=WELCOME,
    )


app = build_app()
