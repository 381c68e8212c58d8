"""One AsyncMongoClient per process and the database-per-tenant naming rule."""

from __future__ import annotations

import asyncio
import contextlib
import random
import re
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import structlog
from pymongo import AsyncMongoClient
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import OperationFailure, PyMongoError

from ..errors import BadRequestError, ErrorCode
from ..settings import CommonSettings

log = structlog.get_logger(__name__)

# Tenant ids end up in database names: keep them to a safe alphabet and refuse reserved words.
TENANT_ID_PATTERN = re.compile(r"^[A-Za-z0-9_]{1,32}$")
RESERVED_TENANT_IDS = frozenset({"commons", "admin", "local", "config"})
PING_TIMEOUT_SECONDS = 5.0
# MongoDB's WriteConflict; mongoeco raises the same condition without a code or label.
WRITE_CONFLICT_CODE = 112
CONFLICT_ATTEMPTS = 8
CONFLICT_BACKOFF_BASE_SECONDS = 0.005
CONFLICT_BACKOFF_MAX_SECONDS = 0.25
_JITTER = random.SystemRandom()


def is_write_conflict(exc: BaseException | None) -> bool:
    """A conflict another attempt would absorb: MongoDB's WriteConflict or mongoeco's
    unlabelled "Write conflict" failure, also when a repository wrapped it (`__cause__`)."""
    seen = 0
    while exc is not None and seen < 5:
        if isinstance(exc, PyMongoError):
            if isinstance(exc, OperationFailure) and exc.code == WRITE_CONFLICT_CODE:
                return True
            if "write conflict" in str(exc).lower():
                return True
        exc, seen = exc.__cause__, seen + 1
    return False


def conflict_backoff(attempt: int) -> float:
    """Full jitter: uniform in [0, base * 2^attempt], capped; spreads writers that collided."""
    ceiling = min(CONFLICT_BACKOFF_BASE_SECONDS * 2**attempt, CONFLICT_BACKOFF_MAX_SECONDS)
    return _JITTER.uniform(0, ceiling)


def tenant_key(tenant_id: str) -> str:
    """What two tenant ids must not share: their database names would differ only in case, and
    MongoDB refuses a database whose name differs from an existing one only in case. Ids are
    ASCII (TENANT_ID_PATTERN), so lower case is the whole folding. The id itself keeps its case."""
    return tenant_id.lower()


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
        self._lanes: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
            weakref.WeakKeyDictionary()
        )

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

    async def tenant_case_variant(self, tenant_id: str) -> str | None:
        """A tenant of this service whose id differs from `tenant_id` only in case, if any.

        Reads the database names (tenant creation only, never a request's hot path)."""
        prefix, key = f"{self.prefix}_", tenant_key(tenant_id)
        for name in await self.client.list_database_names():
            other = name.removeprefix(prefix)
            if other != name and other != tenant_id and tenant_key(other) == key:
                return other
        return None

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

    async def in_transaction[R](
        self,
        work: Callable[[AsyncClientSession], Awaitable[R]],
        *,
        attempts: int = CONFLICT_ATTEMPTS,
    ) -> R:
        """Run `work(session)` in one multi-document transaction; a write conflict runs it again.

        PyMongo's `with_transaction` already retries errors labelled transient; a conflict the
        server reports without the label (mongoeco, or a label lost at commit) is retried here,
        up to `attempts` times with jittered backoff. `work` must therefore be repeatable:
        everything it writes goes through `session`, so a failed attempt leaves nothing behind.
        A commit whose outcome is unknown (connection lost) is not retried here: the caller
        resolves it by looking (e.g. a unique key that the first attempt would have written).

        A failed transaction's server session is discarded instead of going back to the pool:
        the local mongoeco server keeps a session whose commit failed in a broken state, and
        every later transaction on it would fail too (MongoDB is unaffected either way).
        """
        for attempt in range(attempts):
            # First attempts run side by side; a writer that lost a conflict retries in this
            # process's single lane, so retries cannot keep colliding with one another.
            lane = self._retry_lane() if attempt else contextlib.nullcontext()
            async with lane, self.client.start_session() as session:
                try:
                    return await session.with_transaction(work)
                except BaseException as exc:
                    discard_server_session(session)
                    if attempt + 1 >= attempts or not is_write_conflict(exc):
                        raise
                    log.info("transaction_conflict_retried", attempt=attempt + 1)
            await asyncio.sleep(conflict_backoff(attempt))
        raise AssertionError("unreachable")  # the loop either returns or raises

    def _retry_lane(self) -> asyncio.Lock:
        loop = asyncio.get_running_loop()
        lane = self._lanes.get(loop)
        if lane is None:
            lane = self._lanes[loop] = asyncio.Lock()
        return lane


def discard_server_session(session: AsyncClientSession) -> None:
    """Mark the pooled server session dirty so the driver drops it when the session ends."""
    server_session = getattr(session, "_server_session", None)
    mark_dirty = getattr(server_session, "mark_dirty", None)
    if callable(mark_dirty):
        mark_dirty()
