"""Fixtures of the stored-value integration tests (HTTP against the embedded session stack):
the consumer services' shared book (`kugelpos.testkit.consumers`), with the card calls."""

from __future__ import annotations

import secrets
from typing import Any

import httpx
import pytest

from kugelpos.testkit.consumers import *  # noqa: F403 (the shared fixtures)
from kugelpos.testkit.consumers import ConsumerBook, Logs, eventually
from kugelpos.testkit.testing import assert_ok

SERVICE = "stored-value"
CART = "cart"


class Book(ConsumerBook):
    """One tenant in the stored-value service, and the ways to call it."""

    collections = ("cards", "card_ledger", "card_holds", "processed_events")

    @property
    def base(self) -> str:
        return f"/api/v1/tenants/{self.tenant_id}"

    @property
    def cart(self) -> dict[str, str]:
        return self.service(CART)

    async def issue(
        self, count: int = 1, kind: str = "gift", *, with_pin: bool = False, headers=None
    ) -> list[dict[str, Any]]:
        r = await self.http.post(
            f"{self.base}/cards",
            json={"kind": kind, "count": count, "withPin": with_pin},
            headers=headers or self.admin,
        )
        return assert_ok(r, 201)["data"]

    async def card(self, card_no: str, headers=None, pin: str | None = None) -> httpx.Response:
        extra = {"X-Card-Pin": pin} if pin else {}
        return await self.http.get(
            f"{self.base}/cards/{card_no}", headers={**(headers or self.admin), **extra}
        )

    async def balance(self, card_no: str) -> int:
        return assert_ok(await self.card(card_no))["data"]["balance"]

    async def ledger(self, card_no: str) -> list[dict[str, Any]]:
        r = await self.http.get(
            f"{self.base}/cards/{card_no}/ledger", params={"limit": 1000}, headers=self.admin
        )
        return assert_ok(r)["data"]

    async def hold(self, card_no: str, amount: Any, headers=None, **body: Any) -> httpx.Response:
        return await self.http.post(
            f"{self.base}/cards/{card_no}/holds",
            json={"amount": amount, **body},
            headers=headers or self.cart,
        )

    async def close(self, hold_id: str, action: str, headers=None) -> httpx.Response:
        return await self.http.post(
            f"{self.base}/holds/{hold_id}/{action}", headers=headers or self.cart
        )

    async def register_load(
        self, card_no: str, amount: Any, kind: str = "load", headers=None, **body: Any
    ) -> httpx.Response:
        return await self.http.post(
            f"{self.base}/cards/{card_no}/loads",
            json={"amount": amount, "kind": kind, **body},
            headers=headers or self.cart,
        )

    async def new_load(
        self, card_no: str, amount: int, kind: str = "load", store: str | None = None
    ) -> str:
        extra = {"storeCode": store} if store else {}
        r = await self.register_load(card_no, amount, kind, **extra)
        return assert_ok(r, 201)["data"]["loadId"]

    async def get_load(self, load_id: str) -> dict[str, Any]:
        r = await self.http.get(f"{self.base}/loads/{load_id}", headers=self.admin)
        return assert_ok(r)["data"]

    async def get_hold(self, hold_id: str) -> dict[str, Any]:
        return assert_ok(await self.http.get(f"{self.base}/holds/{hold_id}", headers=self.admin))[
            "data"
        ]


def sale(
    tenant_id: str,
    *,
    loads: list[str] = (),
    payments: list[dict[str, Any]] = (),
    transaction_type: int = 101,
    cancelled: bool = False,
    no: int | None = None,
) -> dict[str, Any]:
    """A transaction log as the cart publishes it: `loads` are the pending loads of the card
    lines it sells; `payments` carry `hold_id` (paid by card) or `card_load_id` (a refund
    onto a card). Numbers appear masked only."""
    no = no or secrets.randbelow(10**8) + 1
    return Logs.tran(
        tenant_id,
        no=no,
        transaction_type=transaction_type,
        sales={"is_cancelled": cancelled},
        line_items=[
            {
                "line_no": i + 1,
                "item_code": "GIFT",
                "quantity": 1,
                "card_load_id": load_id,
                "card_no": "************0000",
                "is_cancelled": False,
            }
            for i, load_id in enumerate(loads)
        ]
        or [{"line_no": 1, "item_code": "4901", "quantity": 1, "amount": 100}],
        payments=[{"payment_no": i + 1, "payment_code": "21", **p} for i, p in enumerate(payments)]
        or [{"payment_no": 1, "payment_code": "01", "amount": 100}],
    )


async def balance_becomes(book: Book, card_no: str, expected: int) -> None:
    async def reached() -> bool:
        return await book.balance(card_no) == expected

    await eventually(reached)


@pytest.fixture(scope="session")
def consumer_service() -> str:
    return SERVICE


@pytest.fixture(scope="session")
def book_class() -> type[Book]:
    return Book
