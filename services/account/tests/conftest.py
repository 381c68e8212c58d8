"""Fixtures for the account integration tests (against the embedded stack)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from pymongo import AsyncMongoClient

from kugelpos.devstack.testing import Admin, register_tenant_admin


@pytest.fixture
async def client(stack) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=stack.url("account"), timeout=30) as c:
        yield c


@pytest.fixture
async def mongo(stack) -> AsyncIterator[AsyncMongoClient]:
    c = AsyncMongoClient(stack.mongo_uri_for("account"), tz_aware=True)
    yield c
    await c.close()


@pytest.fixture
async def admin(stack) -> Admin:
    return await register_tenant_admin(stack.url("account"))
