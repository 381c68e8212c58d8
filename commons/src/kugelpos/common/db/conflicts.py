"""Write conflicts a second attempt absorbs, for writes outside a multi-document transaction
(a transaction is retried whole by `Mongo.in_transaction`).

MongoDB retries a single-document write's WriteConflict internally, so against a replica set
this rarely fires; mongoeco reports conflicts (and, on SQLite, a busy engine) to the client
without a code or label. Inside a transaction nothing is retried here: the conflict is
re-raised unchanged, so the transaction's own retry sees it.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable

from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.errors import OperationFailure, PyMongoError

WRITE_CONFLICT_CODE = 112
ATTEMPTS = 6
BACKOFF_BASE_SECONDS = 0.005
BACKOFF_MAX_SECONDS = 0.25
# What mongoeco says instead of a WriteConflict code (lower case).
_CONFLICT_MESSAGES = (
    "write conflict",
    "active transaction bound to another session",  # SQLite engine busy with a transaction
)


def is_write_conflict(exc: BaseException | None) -> bool:
    """MongoDB's WriteConflict or mongoeco's unlabelled equivalents, also when wrapped
    (`__cause__`, e.g. a repository's DatabaseError)."""
    for _ in range(5):
        if exc is None:
            return False
        if isinstance(exc, PyMongoError):
            if isinstance(exc, OperationFailure) and exc.code == WRITE_CONFLICT_CODE:
                return True
            text = str(exc).lower()
            if any(message in text for message in _CONFLICT_MESSAGES):
                return True
        exc = exc.__cause__
    return False


def backoff(attempt: int) -> float:
    """Full jitter in [0, base * 2^attempt], capped."""
    ceiling = min(BACKOFF_BASE_SECONDS * 2**attempt, BACKOFF_MAX_SECONDS)
    return random.uniform(0, ceiling)  # noqa: S311 - jitter, not security


def in_transaction(session: AsyncClientSession | None) -> bool:
    return session is not None and session.in_transaction


async def absorb_conflicts[R](
    write: Callable[[], Awaitable[R]],
    *,
    session: AsyncClientSession | None = None,
    attempts: int = ATTEMPTS,
    applied: Callable[[], Awaitable[R | None]] | None = None,
) -> R:
    """Run one write; on a write conflict (outside a transaction) run it again, after a
    jittered pause. `applied`, if given, is asked first whether the failed attempt took effect
    anyway (its non-None answer is returned): a conflict is not proof that nothing was written.
    """
    for attempt in range(attempts):
        try:
            return await write()
        except PyMongoError as exc:
            if in_transaction(session) or not is_write_conflict(exc) or attempt + 1 >= attempts:
                raise
        await asyncio.sleep(backoff(attempt))
        if applied is not None and (found := await applied()) is not None:
            return found
    raise AssertionError("unreachable")
