"""Fixtures of the report integration tests (HTTP against the embedded session stack): the
consumer services' shared book, logs and event helpers (`kugelpos.testkit.consumers`), with
the report's own reads on its book."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from kugelpos.testkit.consumers import *  # noqa: F403 (the shared fixtures)
from kugelpos.testkit.consumers import ConsumerBook
from kugelpos.testkit.testing import assert_ok

SERVICE = "report"


class Book(ConsumerBook):
    """One tenant in the report service, and the ways to call it."""

    collections = (
        "agg_hour",
        "agg_session",
        "agg_store",
        "report_sessions",
        "log_tran",
        "log_cash_in_out",
        "log_open_close",
        "processed_events",
    )

    async def report(
        self,
        store: str,
        terminal: int | None = None,
        headers: dict[str, str] | None = None,
        **params: Any,
    ) -> httpx.Response:
        path = self.store_path(store) if terminal is None else self.terminal_path(store, terminal)
        return await self.http.get(f"{path}/reports", params=params, headers=headers or self.admin)

    async def data(self, store: str, terminal: int | None = None, **params: Any) -> dict:
        return assert_ok(await self.report(store, terminal, **params))["data"]


@pytest.fixture(scope="session")
def consumer_service() -> str:
    return SERVICE


@pytest.fixture(scope="session")
def book_class() -> type[Book]:
    return Book
