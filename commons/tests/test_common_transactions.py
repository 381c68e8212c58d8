"""Concurrent writers on one MongoDB wire server: `Mongo.in_transaction` absorbs conflicts.

MongoDB reports a conflict as WriteConflict labelled `TransientTransactionError` (the embedded
server answers the same, `kugelpos.embedded_mongo.gate`), and the driver runs the transaction
again. No writer may fail and no write may be lost.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from pymongo.errors import OperationFailure

from kugelpos.common.db.mongo import (
    ConflictPersisted,
    Mongo,
    commit_unknown,
    is_write_conflict,
)
from kugelpos.common.errors import DatabaseError
from kugelpos.common.settings import CommonSettings

WRITERS = 24


def labelled(message: str, label: str = "TransientTransactionError", code: int | None = 112):
    """An error as MongoDB sends it: code and error labels."""
    return OperationFailure(message, code=code, details={"errorLabels": [label]})


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
        raise labelled("WriteConflict")

    with pytest.raises(ConflictPersisted) as raised:
        await mongo.in_transaction(work, attempts=3)
    assert calls == 3
    assert is_write_conflict(raised.value)  # the caller still sees what it was
    assert await db["log"].count_documents({}) == 0  # every failed attempt was rolled back


async def test_a_labelled_conflict_runs_the_transaction_again(
    mongo: Mongo, tenants: list[str]
) -> None:
    calls = 0
    db = mongo.tenant_db(tenants[0])

    async def work(session) -> str:
        nonlocal calls
        calls += 1
        await db["log"].insert_one({"n": calls}, session=session)
        if calls == 1:
            raise labelled("WriteConflict")
        return "done"

    assert await mongo.in_transaction(work) == "done"
    assert calls == 2
    assert [d["n"] for d in await db["log"].find({}, {"_id": False}).to_list()] == [2]


def test_conflict_recognised_by_code_label_and_cause() -> None:
    assert is_write_conflict(OperationFailure("WriteConflict", code=112))
    assert is_write_conflict(labelled("Transaction 3 has been aborted.", code=251))
    wrapped = DatabaseError("log_tran: insert failed")
    wrapped.__cause__ = labelled("WriteConflict")
    assert is_write_conflict(wrapped)
    assert not is_write_conflict(OperationFailure("E11000 duplicate key", code=11000))
    assert not is_write_conflict(ValueError("write conflict"))  # not a database error
    # A message alone is no conflict: MongoDB (and the embedded server) always send the code.
    assert not is_write_conflict(OperationFailure("Write conflict during transaction commit"))


def test_an_unknown_commit_outcome_is_recognised_by_its_label() -> None:
    assert commit_unknown(labelled("connection closed", "UnknownTransactionCommitResult", None))
    assert not commit_unknown(labelled("WriteConflict"))
    assert not commit_unknown(ValueError("UnknownTransactionCommitResult"))
