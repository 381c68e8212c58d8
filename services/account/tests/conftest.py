"""Fixtures for the account integration tests (against the embedded stack)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import httpx
import pytest
from pymongo import AsyncMongoClient

from kugelpos.testkit.testing import Admin, register_tenant_admin


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
def db_name(stack) -> Callable[[str], str]:
    """db_name(tenant_id) -> that tenant's account database ("commons": the shared one)."""
    return lambda tenant_id: stack.db_name("account", tenant_id)


@pytest.fixture
def databases(stack, mongo) -> Callable[[], Awaitable[set[str]]]:
    """The account service's databases of this stack; on a MongoDB that other stacks share
    (MONGODB_URI) the others' databases come and go, and are not what a test looks at."""
    prefix = stack.db_prefix("account") + "_"

    async def names() -> set[str]:
        return {name for name in await mongo.list_database_names() if name.startswith(prefix)}

    return names


@pytest.fixture
async def admin(stack) -> Admin:
    return await register_tenant_admin(stack.url("account"))
