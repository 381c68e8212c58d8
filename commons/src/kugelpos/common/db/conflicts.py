"""Write conflicts a second attempt absorbs, for writes outside a multi-document transaction
(a transaction is retried whole by `Mongo.in_transaction`).

MongoDB retries a single-document write's WriteConflict internally, so against a replica set
this rarely fires; mongoeco reports conflicts (and, on SQLite, a busy engine) to the client
without a code or label. Inside a transaction nothing is retried here: the conflict is
re-raised unchanged, so the transaction's own retry sees it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.errors import PyMongoError

from .mongo import conflict_backoff
from .mongo import is_write_conflict as _is_conflict

ATTEMPTS = 6
# The SQLite engine refuses another session's command while a transaction holds it (the
# launcher's server gate makes them wait instead; this covers an ungated server).
_ENGINE_BUSY = "active transaction bound to another session"


def is_write_conflict(exc: BaseException | None) -> bool:
    """`Mongo`'s write conflicts (MongoDB's WriteConflict, mongoeco's unlabelled one, also
    wrapped), and a mongoeco SQLite engine busy with another session's transaction."""
    if _is_conflict(exc):
        return True
    for _ in range(5):
        if exc is None:
            return False
        if isinstance(exc, PyMongoError) and _ENGINE_BUSY in str(exc).lower():
            return True
        exc = exc.__cause__
    return False


def backoff(attempt: int) -> float:
    """Full jitter, capped (the same as `Mongo.in_transaction`'s)."""
    return conflict_backoff(attempt)


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
