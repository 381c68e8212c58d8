"""One AsyncMongoClient per process and the database-per-tenant naming rule."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from pymongo import AsyncMongoClient
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase

from ..errors import BadRequestError, ErrorCode
from ..settings import CommonSettings

# Tenant ids end up in database names: keep them to a safe alphabet and refuse reserved words.
TENANT_ID_PATTERN = re.compile(r"^[A-Za-z0-9_]{1,32}$")
RESERVED_TENANT_IDS = frozenset({"commons", "admin", "local", "config"})
PING_TIMEOUT_SECONDS = 5.0


def validate_tenant_id(tenant_id: str) -> str:
    if not TENANT_ID_PATTERN.fullmatch(tenant_id) or tenant_id.lower() in RESERVED_TENANT_IDS:
        raise BadRequestError(
            "Invalid tenant id: 1-32 letters, digits or '_', not a reserved name",
            code=ErrorCode.INVALID_FORMAT,
        )
    return tenant_id


class Mongo:
    """Holds the client; hands out tenant databases and transactions."""

    def __init__(self, settings: CommonSettings, prefix: str | None = None) -> None:
        self.prefix = prefix or settings.db_name_prefix
        self._settings = settings
        self._client: AsyncMongoClient | None = None

    @property
    def client(self) -> AsyncMongoClient:
        if self._client is None:
            s = self._settings
            self._client = AsyncMongoClient(
                s.mongodb_uri,
                tz_aware=True,
                maxPoolSize=s.db_max_pool_size,
                minPoolSize=s.db_min_pool_size,
                maxIdleTimeMS=s.db_max_idle_time_ms,
                serverSelectionTimeoutMS=s.db_server_selection_timeout_ms,
                connectTimeoutMS=s.db_connect_timeout_ms,
                socketTimeoutMS=s.db_socket_timeout_ms,
                appname=s.service_name,
            )
        return self._client

    def database_name(self, tenant_id: str) -> str:
        return f"{self.prefix}_{validate_tenant_id(tenant_id)}"

    def tenant_db(self, tenant_id: str) -> AsyncDatabase:
        return self.client[self.database_name(tenant_id)]

    def commons_db(self) -> AsyncDatabase:
        return self.client[f"{self.prefix}_commons"]

    async def ping(self) -> None:
        await asyncio.wait_for(self.client.admin.command("ping"), PING_TIMEOUT_SECONDS)

    async def close(self) -> None:
        if self._client is not None:
            await self._client.close()
            self._client = None

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncClientSession]:
        async with self.client.start_session() as session:
            yield session

    async def in_transaction[R](self, work: Callable[[AsyncClientSession], Awaitable[R]]) -> R:
        """Run `work(session)` in one multi-document transaction, retried on transient errors.

        A failed transaction's server session is discarded instead of going back to the pool:
        the local mongoeco server keeps a session whose commit failed in a broken state, and
        every later transaction on it would fail too (MongoDB is unaffected either way).
        """
        async with self.client.start_session() as session:
            try:
                return await session.with_transaction(work)
            except BaseException:
                discard_server_session(session)
                raise


def discard_server_session(session: AsyncClientSession) -> None:
    """Mark the pooled server session dirty so the driver drops it when the session ends."""
    server_session = getattr(session, "_server_session", None)
    mark_dirty = getattr(server_session, "mark_dirty", None)
    if callable(mark_dirty):
        mark_dirty()
