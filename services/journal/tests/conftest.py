"""Fixtures of the journal integration tests (HTTP against the embedded session stack): the
consumer services' shared book, logs and event helpers (`kugelpos.testkit.consumers`), with
the journal's own reads on its book."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from kugelpos.testkit.consumers import *  # noqa: F403 (the shared fixtures)
from kugelpos.testkit.consumers import ConsumerBook
from kugelpos.testkit.testing import assert_ok

SERVICE = "journal"


class Book(ConsumerBook):
    """One tenant in the journal, and the ways to call it."""

    collections = ("journal", "log_tran", "log_cash_in_out", "log_open_close", "processed_events")

    async def search(
        self, store: str, headers: dict[str, str] | None = None, **params: Any
    ) -> httpx.Response:
        return await self.http.get(
            f"{self.store_path(store)}/journals", params=params, headers=headers or self.admin
        )

    async def found(self, store: str, **params: Any) -> list[dict[str, Any]]:
        return assert_ok(await self.search(store, **params))["data"]

    async def post_journal(self, store: str, terminal: int, body: dict, headers=None):
        return await self.http.post(
            f"{self.terminal_path(store, terminal)}/journals",
            json=body,
            headers=headers or self.service(),
        )

    async def entries(self, **filter_: Any) -> list[dict[str, Any]]:
        return await self.db["journal"].find(filter_, {"_id": False}).to_list()


@pytest.fixture(scope="session")
def consumer_service() -> str:
    return SERVICE


@pytest.fixture(scope="session")
def book_class() -> type[Book]:
    return Book
