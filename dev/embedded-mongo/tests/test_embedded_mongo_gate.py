"""The embedded MongoDB server runs each transaction alone: concurrent transactions, reads and
writes of other sessions all succeed (ungated, mongoeco fails most of them), and a transaction
its client abandoned is aborted instead of blocking the server."""

import asyncio
import random

import pytest
from mongoeco.engines.memory import MemoryEngine
from mongoeco.engines.sqlite import SQLiteEngine
from pymongo import AsyncMongoClient

from kugelpos.embedded_mongo.gate import GatedProxyServer, transaction_key

OPERATIONS = 160


def _engine(kind: str, tmp_path):
    return SQLiteEngine(str(tmp_path / "gate.sqlite3")) if kind == "sqlite" else MemoryEngine()


@pytest.mark.parametrize("engine", ["memory", "sqlite"])
async def test_concurrent_transactions_and_plain_commands_all_succeed(engine, tmp_path):
    server = GatedProxyServer(engine=_engine(engine, tmp_path), port=0)
    address = await server.start()
    client = AsyncMongoClient(address.uri)
    rng = random.Random(7)
    try:

        async def transaction(n: int) -> None:
            async def work(session):
                await client.a.log.insert_one({"n": n}, session=session)
                await client.commons.outbox.insert_one({"n": n}, session=session)

            async with client.start_session() as session:
                await session.with_transaction(work)

        async def plain(n: int) -> None:
            await client.b.other.insert_one({"n": n})
            await client.a.log.find_one({"n": n})
            await client.commons.outbox.update_one({"n": -1}, {"$set": {"seen": True}})

        kinds = [rng.choice((transaction, plain)) for _ in range(OPERATIONS)]
        results = await asyncio.gather(
            *(kind(n) for n, kind in enumerate(kinds)), return_exceptions=True
        )
        failures = [r for r in results if isinstance(r, BaseException)]
        assert failures == []
        committed = sum(kind is transaction for kind in kinds)
        assert await client.a.log.count_documents({}) == committed
        assert await client.commons.outbox.count_documents({}) == committed
        assert await client.b.other.count_documents({}) == OPERATIONS - committed
    finally:
        await client.close()
        await server.close()


async def test_an_abandoned_transaction_is_aborted_and_the_server_goes_on(tmp_path):
    server = GatedProxyServer(engine=_engine("sqlite", tmp_path), port=0, idle_timeout=0.5)
    address = await server.start()
    client = AsyncMongoClient(address.uri)
    try:
        session = client.start_session()
        await session.start_transaction()
        await client.a.log.insert_one({"n": "abandoned"}, session=session)
        # The client never commits: another session's write waits, then the gate aborts it.
        await asyncio.wait_for(client.a.log.insert_one({"n": "other"}), 10)
        assert await client.a.log.count_documents({"n": "abandoned"}) == 0
        assert await client.a.log.count_documents({"n": "other"}) == 1
        await session.end_session()
    finally:
        await client.close()
        await server.close()


def test_only_multi_document_transaction_commands_are_exclusive():
    lsid = {"id": b"0123456789abcdef"}
    assert transaction_key({"insert": "c", "lsid": lsid, "txnNumber": 1, "autocommit": False})
    # A retryable write carries a txnNumber but is not a transaction.
    assert transaction_key({"insert": "c", "lsid": lsid, "txnNumber": 1}) is None
    assert transaction_key({"find": "c", "lsid": lsid}) is None
