"""Concurrent writers on one MongoDB wire server: `Mongo.in_transaction` absorbs conflicts.

The embedded mongoeco server fails a commit when any other write reached it meanwhile (and
labels nothing transient); MongoDB reports WriteConflict. Either way no writer may fail and no
write may be lost.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from pymongo.errors import OperationFailure

from kugelpos.common.db.mongo import Mongo, conflict_backoff, is_write_conflict
from kugelpos.common.errors import DatabaseError
from kugelpos.common.settings import CommonSettings

WRITERS = 24


@pytest_asyncio.fixture
async def mongo(mongo_uri: str) -> AsyncIterator[Mongo]:
    client = Mongo(CommonSettings(environment="development", mongodb_uri=mongo_uri), "db_txtest")
    yield client
    await client.close()


@pytest_asyncio.fixture
async def tenants(mongo: Mongo) -> AsyncIterator[list[str]]:
    names = ["T" + uuid.uuid4().hex[:10] for _ in range(2)]
    yield names
    for name in names:
        await mongo.client.drop_database(mongo.database_name(name))


async def test_concurrent_transactions_on_two_databases_all_commit(
    mongo: Mongo, tenants: list[str]
) -> None:
    """Each writer inserts a record and bumps a shared counter in one transaction."""

    async def writer(n: int) -> None:
        db = mongo.tenant_db(tenants[n % 2])

        async def work(session) -> None:
            await db["log"].insert_one({"n": n}, session=session)
            await db["counter"].update_one(
                {"_id": "c"}, {"$inc": {"value": 1}}, upsert=True, session=session
            )

        await mongo.in_transaction(work)

    await asyncio.gather(*(writer(n) for n in range(WRITERS)))

    total = 0
    for tenant in tenants:
        db = mongo.tenant_db(tenant)
        logged = [d["n"] for d in await db["log"].find({}, {"_id": False}).to_list()]
        counter = await db["counter"].find_one({"_id": "c"})
        assert counter is not None
        assert counter["value"] == len(logged)  # the log and the counter agree: no half-writes
        total += len(logged)
    assert total == WRITERS


async def test_a_failure_that_is_not_a_conflict_is_not_retried(
    mongo: Mongo, tenants: list[str]
) -> None:
    calls = 0

    async def work(session) -> None:
        nonlocal calls
        calls += 1
        raise ValueError("a bug, not a conflict")

    with pytest.raises(ValueError):
        await mongo.in_transaction(work)
    assert calls == 1


async def test_a_conflict_that_persists_gives_up_after_the_bound(
    mongo: Mongo, tenants: list[str]
) -> None:
    calls = 0
    db = mongo.tenant_db(tenants[0])

    async def work(session) -> None:
        nonlocal calls
        calls += 1
        await db["log"].insert_one({"n": calls}, session=session)
        raise OperationFailure("Write conflict during transaction commit")

    with pytest.raises(OperationFailure):
        await mongo.in_transaction(work, attempts=3)
    assert calls == 3
    assert await db["log"].count_documents({}) == 0  # every failed attempt was rolled back


def test_conflict_recognised_by_code_message_and_cause() -> None:
    assert is_write_conflict(OperationFailure("WriteConflict", code=112))
    assert is_write_conflict(OperationFailure("Write conflict during transaction commit"))
    wrapped = DatabaseError("log_tran: insert failed")
    wrapped.__cause__ = OperationFailure("Write conflict: publication is in progress")
    assert is_write_conflict(wrapped)
    assert not is_write_conflict(OperationFailure("E11000 duplicate key", code=11000))
    assert not is_write_conflict(ValueError("write conflict"))  # not a database error


def test_backoff_is_bounded_and_jittered() -> None:
    for attempt in range(12):
        delays = {conflict_backoff(attempt) for _ in range(20)}
        assert all(0 <= d <= 0.25 for d in delays)
        assert len(delays) > 1
