"""One AsyncMongoClient per process and the database-per-tenant naming rule."""

from __future__ import annotations

import asyncio
import re
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
# MongoDB's WriteConflict, and the label it puts on every error after which a transaction may
# be run again (a conflict, a transaction the server aborted).
WRITE_CONFLICT_CODE = 112
TRANSIENT_TRANSACTION_ERROR = "TransientTransactionError"
UNKNOWN_COMMIT_RESULT = "UnknownTransactionCommitResult"
# Attempts of one transaction before its caller hears of the conflict (PyMongo would go on
# for 120 s, longer than any till waits for an answer).
CONFLICT_ATTEMPTS = 8


def is_write_conflict(exc: BaseException | None) -> bool:
    """A conflict another attempt would absorb: MongoDB's WriteConflict, or any error labelled
    `TransientTransactionError`, also when a repository wrapped it (`__cause__`)."""
    seen = 0
    while exc is not None and seen < 5:
        if isinstance(exc, PyMongoError):
            if isinstance(exc, OperationFailure) and exc.code == WRITE_CONFLICT_CODE:
                return True
            if exc.has_error_label(TRANSIENT_TRANSACTION_ERROR):
                return True
        exc, seen = exc.__cause__, seen + 1
    return False


def commit_unknown(exc: BaseException) -> bool:
    """A commit whose outcome the driver could not learn within its own retries (the
    connection dropped at commit, a primary stepped down): it may have been applied."""
    return isinstance(exc, PyMongoError) and exc.has_error_label(UNKNOWN_COMMIT_RESULT)


class ConflictPersisted(OperationFailure):
    """A transaction still lost its write conflict after `attempts` runs (not labelled
    transient, so the driver stops; `is_write_conflict` still says what it is)."""

    def __init__(self, attempts: int) -> None:
        super().__init__(
            f"Write conflict: the transaction lost {attempts} attempts in a row",
            code=WRITE_CONFLICT_CODE,
        )


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

    async def tenant_ids(self) -> list[str]:
        """Every tenant with a database of this service (background jobs that visit each
        tenant: stock's snapshot scheduler, stored value's hold expiry). Reads the database
        names, never on a request's hot path."""
        prefix = f"{self.prefix}_"
        found = []
        for name in await self.client.list_database_names():
            if not name.startswith(prefix) or name == f"{prefix}commons":
                continue
            try:
                found.append(validate_tenant_id(name[len(prefix) :]))
            except BadRequestError:
                continue
        return found

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
        """Run `work(session)` in one multi-document transaction (PyMongo's `with_transaction`).

        What a replica set asks of a client, and no more: the driver runs `work` again after
        an error labelled `TransientTransactionError` (a write conflict, a transaction the
        server aborted), with its own jittered backoff, and sends a commit again while its
        outcome is unknown. `work` must therefore be repeatable: everything it writes goes
        through `session`, so a failed attempt leaves nothing behind. A `WriteConflict` raised
        without the label (a server that leaves it off) counts as labelled. Here the attempts are
        bounded: the `attempts`-th conflict in a row raises `ConflictPersisted`. A commit whose
        outcome stays unknown after the driver's retries raises with the
        `UnknownTransactionCommitResult` label (`commit_unknown`): the caller resolves it by
        looking (e.g. for a unique key the transaction wrote).
        """
        runs = 0

        async def bounded(session: AsyncClientSession) -> R:
            nonlocal runs
            runs += 1
            if runs > attempts:
                raise ConflictPersisted(attempts)
            if runs > 1:
                log.info("transaction_conflict_retried", attempt=runs - 1)
            try:
                return await work(session)
            except OperationFailure as exc:
                # A WriteConflict is never applied, so it is always worth another run; a
                # server (or `work` itself) may send the code without MongoDB's label.
                if exc.code != WRITE_CONFLICT_CODE or exc.has_error_label(
                    TRANSIENT_TRANSACTION_ERROR
                ):
                    raise
                details = {**(exc.details or {}), "errorLabels": [TRANSIENT_TRANSACTION_ERROR]}
                raise OperationFailure(
                    str(details.get("errmsg") or exc), code=WRITE_CONFLICT_CODE, details=details
                ) from exc

        async with self.client.start_session() as session:
            return await session.with_transaction(bounded)
