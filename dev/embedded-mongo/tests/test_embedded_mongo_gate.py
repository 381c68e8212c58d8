"""The embedded MongoDB server runs each transaction alone: concurrent transactions, reads and
writes of other sessions all succeed (ungated, mongoeco fails most of them), and a transaction
its client abandoned is aborted instead of blocking the server. It answers conflicts and
transaction outcomes as a replica set does, so the services need no workaround of their own."""

import asyncio
import random

import pytest
from mongoeco.engines.memory import MemoryEngine
from mongoeco.engines.sqlite import SQLiteEngine
from pymongo import AsyncMongoClient
from pymongo.errors import OperationFailure

from kugelpos.embedded_mongo.gate import (
    NO_SUCH_TRANSACTION,
    WRITE_CONFLICT,
    GatedProxyServer,
    single_document_write,
    transaction_key,
)

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


# ---- a replica set's answers (what production code relies on instead of workarounds) ----


COMMIT_CONFLICT = "Write conflict during transaction commit"


def _conflict_once(engine: MemoryEngine, method: str, message: str) -> list[int]:
    """Make the engine's `method` fail once with mongoeco's own (unlabelled) conflict."""
    original = getattr(engine, method)
    calls: list[int] = []

    def failing(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise OperationFailure(message)
        return original(*args, **kwargs)

    setattr(engine, method, failing)
    return calls


async def _served(engine, **kwargs):
    server = GatedProxyServer(engine=engine, port=0, **kwargs)
    address = await server.start()
    return server, AsyncMongoClient(address.uri)


async def test_a_conflict_at_commit_is_a_labelled_write_conflict_and_nothing_is_applied():
    engine = MemoryEngine()
    _conflict_once(engine, "_commit_session_transaction", COMMIT_CONFLICT)
    server, client = await _served(engine)
    try:
        async with client.start_session() as session:
            await session.start_transaction()
            await client.a.log.insert_one({"n": 1}, session=session)
            with pytest.raises(OperationFailure) as raised:
                await session.commit_transaction()
        assert raised.value.code == WRITE_CONFLICT
        assert raised.value.has_error_label("TransientTransactionError")
        assert await client.a.log.count_documents({}) == 0
    finally:
        await client.close()
        await server.close()


async def test_with_transaction_alone_runs_a_conflicting_transaction_again():
    """PyMongo's own retry is enough: no retry loop or session discarding of ours."""
    engine = MemoryEngine()
    _conflict_once(engine, "_commit_session_transaction", COMMIT_CONFLICT)
    server, client = await _served(engine)
    runs = 0
    try:

        async def work(session):
            nonlocal runs
            runs += 1
            await client.a.log.insert_one({"run": runs}, session=session)
            await client.commons.outbox.insert_one({"run": runs}, session=session)

        async with client.start_session() as session:
            await session.with_transaction(work)
        assert runs == 2
        assert [d["run"] for d in await client.a.log.find().to_list()] == [2]
        assert [d["run"] for d in await client.commons.outbox.find().to_list()] == [2]
        assert server.sessions.aborted_by_server == 1
    finally:
        await client.close()
        await server.close()


async def test_a_session_whose_commit_failed_starts_its_next_transaction_afresh():
    """mongoeco kept the failed transaction open on the session, and the next one carried on
    with its writes; a new txnNumber now ends it, as in MongoDB."""
    engine = MemoryEngine()
    _conflict_once(engine, "_commit_session_transaction", COMMIT_CONFLICT)
    server, client = await _served(engine)
    try:
        async with client.start_session() as session:
            await session.start_transaction()
            await client.a.log.insert_one({"n": "failed"}, session=session)
            with pytest.raises(OperationFailure):
                await session.commit_transaction()
            await session.start_transaction()
            await client.a.log.insert_one({"n": "next"}, session=session)
            await session.commit_transaction()
        assert [d["n"] for d in await client.a.log.find().to_list()] == ["next"]
    finally:
        await client.close()
        await server.close()


async def test_a_commit_sent_again_after_it_succeeded_answers_ok_and_applies_once():
    server, client = await _served(MemoryEngine())
    try:
        async with client.start_session() as session:
            await session.start_transaction()
            await client.a.log.insert_one({"n": 1}, session=session)
            await session.commit_transaction()
            await session.commit_transaction()  # the driver resends a commit it lost the answer of
        assert await client.a.log.count_documents({}) == 1
    finally:
        await client.close()
        await server.close()


@pytest.mark.parametrize("engine", ["memory", "sqlite"])
async def test_a_transaction_the_server_aborted_is_over(engine, tmp_path):
    """Its later statements are not applied outside it, and its commit is NoSuchTransaction,
    labelled transient (it used to answer ok, having applied only the second half)."""
    server, client = await _served(_engine(engine, tmp_path), idle_timeout=0.3)
    try:
        session = client.start_session()
        await session.start_transaction()
        await client.a.log.insert_one({"n": "first"}, session=session)
        # Another session waits, the gate aborts the idle transaction, the other one runs.
        await asyncio.wait_for(client.a.log.insert_one({"n": "other"}), 10)
        with pytest.raises(OperationFailure) as statement:
            await client.a.log.insert_one({"n": "second"}, session=session)
        assert statement.value.code == NO_SUCH_TRANSACTION
        assert statement.value.has_error_label("TransientTransactionError")
        with pytest.raises(OperationFailure) as commit:
            await session.commit_transaction()
        assert commit.value.code == NO_SUCH_TRANSACTION
        assert commit.value.has_error_label("TransientTransactionError")
        assert sorted(d["n"] for d in await client.a.log.find().to_list()) == ["other"]
        await session.end_session()
    finally:
        await client.close()
        await server.close()


async def test_a_single_write_outside_a_transaction_that_conflicts_is_retried_in_the_server():
    """MongoDB retries a single-document write's conflict itself; the client never sees it."""
    engine = MemoryEngine()
    calls = _conflict_once(engine, "insert_document", "Write conflict: publication is in progress")
    server, client = await _served(engine)
    try:
        await client.a.log.insert_one({"n": 1})
        assert await client.a.log.count_documents({}) == 1
        assert len(calls) >= 2
        assert server.plain_conflicts_retried == 1
    finally:
        await client.close()
        await server.close()


def test_only_single_document_writes_are_retried_by_the_server():
    assert single_document_write({"insert": "c", "documents": [{}]})
    assert not single_document_write({"insert": "c", "documents": [{}, {}]})
    assert single_document_write({"update": "c", "updates": [{"q": {}, "u": {}}]})
    many = {"q": {}, "u": {}, "multi": True}
    assert not single_document_write({"update": "c", "updates": [many]})
    assert single_document_write({"delete": "c", "deletes": [{"q": {}, "limit": 1}]})
    assert not single_document_write({"delete": "c", "deletes": [{"q": {}, "limit": 0}]})
    assert single_document_write({"findAndModify": "c"})
    assert not single_document_write({"find": "c"})


_DOOMED_CLIENT = """
import asyncio, sys
from pymongo import AsyncMongoClient

async def main():
    client = AsyncMongoClient(sys.argv[1], maxPoolSize=20)
    holder = client.start_session()
    await holder.start_transaction()
    await client.a.log.insert_one({"n": "holder"}, session=holder)

    async def queued(n):
        async with client.start_session() as session:
            async def work(s):
                await client.a.log.insert_one({"n": n}, session=s)
            await session.with_transaction(work)

    tasks = [asyncio.create_task(queued(n)) for n in range(8)]
    await asyncio.sleep(0.5)  # the eight are queued behind the holder at the gate
    print("ready", flush=True)
    await asyncio.gather(*tasks)

asyncio.run(main())
"""


@pytest.mark.parametrize("engine", ["memory", "sqlite"])
async def test_a_killed_clients_transaction_and_queued_ones_do_not_hold_the_gate(engine, tmp_path):
    """A service killed while its transaction held the gate and eight more of its transactions
    queued: the gate aborts the held one when the connection closes and drops the queued ones
    unrun, so another client goes on at once (it used to wait an idle timeout for each: nine
    times 30 s here), and nothing of the killed client is applied."""
    import sys

    server, client = await _served(_engine(engine, tmp_path), idle_timeout=30)
    address = server.address
    doomed = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        _DOOMED_CLIENT,
        address.uri,
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        assert doomed.stdout is not None
        line = await asyncio.wait_for(doomed.stdout.readline(), 20)
        assert line.strip() == b"ready"
        assert server.gate.owner is not None
        doomed.kill()
        await doomed.wait()

        async def work(session):
            await client.a.log.insert_one({"n": "survivor"}, session=session)

        async with client.start_session() as session:
            await asyncio.wait_for(session.with_transaction(work), 10)
        assert [d["n"] for d in await client.a.log.find().to_list()] == ["survivor"]
        assert server.sessions.aborted_by_server == 1
        assert server.gate.dropped == 8
    finally:
        if doomed.returncode is None:
            doomed.kill()
            await doomed.wait()
        await client.close()
        await server.close()
