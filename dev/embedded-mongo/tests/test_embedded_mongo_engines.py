"""The embedded engines' unique checks: the same answers as MongoDB's, from an index, never a scan.

Every case runs through the real wire server with PyMongo, on both engines. The fast path must
refuse every duplicate mongoeco refuses (compound keys, numbers of another type, an update onto
another document's key, a key inside an aborted transaction freed again), leave multikey and
exotic cases to mongoeco (still refused), and not read the collection while it checks.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from bson import ObjectId
from pymongo import AsyncMongoClient, UpdateOne
from pymongo.errors import DuplicateKeyError

from kugelpos.embedded_mongo.engines import (
    IndexedUniqueMemoryEngine,
    IndexedUniqueSQLiteEngine,
    engine_for,
    has_array_on_path,
    scalar_at,
)
from kugelpos.embedded_mongo.gate import GatedProxyServer

ENGINES = ["memory", "sqlite"]
KEY = [("tenant_id", 1), ("terminal_no", 1), ("transaction_no", 1)]


class Served:
    """A wire server over one engine and a client of it."""

    def __init__(self, engine) -> None:
        self.engine = engine
        self.server = GatedProxyServer(engine=engine, port=0)

    async def __aenter__(self):
        address = await self.server.start()
        self.client = AsyncMongoClient(address.uri)
        return self

    async def __aexit__(self, *exc) -> None:
        await self.client.close()
        await self.server.close()


def _sale(no, terminal: int = 1, **extra) -> dict:
    return {
        "tenant_id": "T1",
        "terminal_no": terminal,
        "transaction_no": no,
        "source_id": f"cart:{ObjectId()}",
        "at": dt.datetime(2026, 12, 6, 10, tzinfo=dt.UTC),
        "lines": [{"item": "4901", "qty": 1}],
        **extra,
    }


async def _collection(served: Served):
    coll = served.client.db_cart_T1.tranlogs
    await coll.create_index(KEY, unique=True)
    await coll.create_index([("source_id", 1)], unique=True)
    await coll.create_index([("tenant_id", 1), ("at", -1)])
    return coll


@pytest.mark.parametrize("kind", ENGINES)
async def test_duplicates_are_refused_as_mongodb_refuses_them(kind, tmp_path):
    async with Served(engine_for(kind, str(tmp_path / "u.sqlite3"))) as served:
        coll = await _collection(served)
        await coll.insert_many([_sale(n, terminal=1 + n % 3) for n in range(30)])
        with pytest.raises(DuplicateKeyError):
            await coll.insert_one(_sale(7, terminal=2))  # the same compound key
        with pytest.raises(DuplicateKeyError):
            await coll.insert_one(_sale(7.0, terminal=2))  # a double equal to the int
        existing = await coll.find_one({"transaction_no": 8})
        with pytest.raises(DuplicateKeyError):
            await coll.insert_one(_sale(1000, source_id=existing["source_id"]))  # single field
        with pytest.raises(DuplicateKeyError):
            await coll.insert_one({**_sale(1001), "_id": existing["_id"]})
        # Another terminal, another number: not duplicates.
        await coll.insert_one(_sale(7, terminal=9))
        await coll.insert_one(_sale(7.5, terminal=2))
        assert await coll.count_documents({}) == 32


@pytest.mark.parametrize("kind", ENGINES)
async def test_updates_keep_their_own_key_and_cannot_take_another(kind, tmp_path):
    async with Served(engine_for(kind, str(tmp_path / "u.sqlite3"))) as served:
        coll = await _collection(served)
        await coll.insert_many([_sale(1), _sale(2)])
        await coll.update_one({"transaction_no": 1}, {"$set": {"note": "reprinted"}})
        await coll.replace_one({"transaction_no": 2}, _sale(2, note="replaced"))
        with pytest.raises(DuplicateKeyError):
            await coll.update_one({"transaction_no": 2}, {"$set": {"transaction_no": 1}})
        assert sorted(await coll.distinct("transaction_no")) == [1, 2]


@pytest.mark.parametrize("kind", ENGINES)
async def test_a_key_written_by_an_aborted_transaction_is_free_again(kind, tmp_path):
    async with Served(engine_for(kind, str(tmp_path / "u.sqlite3"))) as served:
        coll = await _collection(served)
        await coll.insert_one(_sale(1))
        async with served.client.start_session() as session:
            await session.start_transaction()
            await coll.insert_one(_sale(2), session=session)
            with pytest.raises(DuplicateKeyError):
                await coll.insert_one(_sale(2), session=session)  # sees its own write
            await session.abort_transaction()
        await coll.insert_one(_sale(2))
        with pytest.raises(DuplicateKeyError):
            await coll.insert_one(_sale(2))


@pytest.mark.parametrize("kind", ENGINES)
async def test_multikey_documents_are_still_checked(kind, tmp_path):
    async with Served(engine_for(kind, str(tmp_path / "u.sqlite3"))) as served:
        coll = await _collection(served)
        await coll.insert_one(_sale([1, 2], terminal=4))  # multikey on transaction_no
        with pytest.raises(DuplicateKeyError):
            await coll.insert_one(_sale(2, terminal=4))  # matches an element of the array
        await coll.insert_one(_sale(3, terminal=4))


async def test_arrays_stored_before_the_process_started_are_found(tmp_path):
    path = str(tmp_path / "restart.sqlite3")
    async with Served(engine_for("sqlite", path)) as served:
        coll = await _collection(served)
        await coll.insert_one(_sale([1, 2], terminal=4))
    async with Served(engine_for("sqlite", path)) as served:  # a fresh process's engine
        coll = served.client.db_cart_T1.tranlogs
        with pytest.raises(DuplicateKeyError):
            await coll.insert_one(_sale(2, terminal=4))


@pytest.mark.parametrize("kind", ENGINES)
async def test_checking_a_unique_key_does_not_read_the_collection(kind, tmp_path, monkeypatch):
    engine = engine_for(kind, str(tmp_path / "u.sqlite3"))
    async with Served(engine) as served:
        coll = await _collection(served)
        await coll.insert_many([_sale(n, terminal=1 + n % 5) for n in range(200)])
        reads = []
        if isinstance(engine, IndexedUniqueSQLiteEngine):
            original = IndexedUniqueSQLiteEngine._load_documents

            def spy(self, db_name, coll_name, *args, **kwargs):
                reads.append(coll_name)
                return original(self, db_name, coll_name, *args, **kwargs)

            monkeypatch.setattr(IndexedUniqueSQLiteEngine, "_load_documents", spy)
        else:
            assert isinstance(engine, IndexedUniqueMemoryEngine)
            original = IndexedUniqueMemoryEngine._unique_index_conflict

            def spy(self, candidate, existing, index):
                reads.append(index["name"])
                return original(self, candidate, existing, index)

            monkeypatch.setattr(IndexedUniqueMemoryEngine, "_unique_index_conflict", spy)
        for n in range(200, 220):
            await coll.insert_one(_sale(n))
        with pytest.raises(DuplicateKeyError):
            await coll.insert_one(_sale(205))
        assert reads == []


def test_path_helpers():
    document = {"a": {"b": 1}, "c": [1], "d": None, "e": {"f": [{"g": 1}]}}
    assert scalar_at(document, "a.b") == 1
    assert scalar_at(document, "c") is scalar_at(document, "d") is scalar_at(document, "x")
    assert scalar_at(document, "a") is scalar_at(document, "missing")
    assert has_array_on_path(document, "c")
    assert has_array_on_path(document, "e.f.g")
    assert not has_array_on_path(document, "a.b")
    assert not has_array_on_path(document, "x.y")


async def _replay(engine, steps) -> list:
    """Run writes and reads in order; return what every read answered."""
    answers = []
    async with Served(engine) as served:
        coll = served.client.db_x_T1.things
        await coll.create_index([("k", 1), ("n", 1)], unique=True)
        for op, *args in steps:
            if op == "insert":
                await coll.insert_one(dict(args[0]))
            elif op == "update":
                await coll.update_one(args[0], args[1])
            elif op == "delete":
                await coll.delete_one(args[0])
            else:
                found = await coll.find(args[0], {"_id": 0}).sort("k", 1).to_list()
                answers.append((args[0], found, await coll.count_documents(args[0])))
    return answers


async def test_query_plans_follow_what_later_writes_brought(tmp_path):
    """After a read has learnt that no document holds an array, a Decimal128 or a string on a
    field, a later write that brings one must change later answers exactly as it does for
    mongoeco's own engine (which forgets what it learnt at every write)."""
    from bson import Decimal128
    from mongoeco.engines.sqlite import SQLiteEngine

    steps = [("insert", {"k": f"a{i}", "n": i, "s": "x"}) for i in range(20)]
    steps += [
        ("find", {"n": 2}),
        ("find", {"n": {"$gt": 17}}),
        ("insert", {"k": "arr", "n": [2, 40], "s": "y"}),
        ("find", {"n": 2}),
        ("find", {"n": 40}),
        ("find", {"n": {"$gt": 17}}),
        ("insert", {"k": "dec", "n": Decimal128("3"), "s": "z"}),
        ("find", {"n": 3}),
        ("insert", {"k": "str", "n": "18", "s": 5}),
        ("find", {"n": {"$gt": 17}}),
        ("find", {"s": {"$gt": "x"}}),
        ("update", {"k": "a5"}, {"$set": {"n": [5, 41]}}),
        ("find", {"n": 41}),
        ("delete", {"k": "arr"}),
        ("find", {"n": 40}),
        ("find", {"n": {"$gte": 0}}),
    ]
    ours = await _replay(engine_for("sqlite", str(tmp_path / "ours.sqlite3")), steps)
    theirs = await _replay(SQLiteEngine(str(tmp_path / "theirs.sqlite3")), steps)
    assert ours == theirs
    keys = {repr(query): [d["k"] for d in found] for query, found, _ in ours}
    # What the tracked features decide (arrays, Decimal128), as MongoDB answers it:
    assert [[d["k"] for d in found] for _, found, _ in ours][2:6] == [
        ["a2", "arr"],
        ["arr"],
        ["a18", "a19", "arr"],
        ["a3", "dec"],
    ]
    assert keys[repr({"n": 41})] == ["a5"]
    assert keys[repr({"n": 40})] == []  # the last answer for that query: after the delete


async def test_our_sqlite_engine_keeps_no_change_log_and_mongoeco_still_does(tmp_path, monkeypatch):
    from mongoeco.engines.sqlite import SQLiteEngine

    from kugelpos.embedded_mongo import engines as mongo_engines

    appended: list[str] = []
    original = mongo_engines._mongoeco_append_change

    def counting(conn, *args, **kwargs):
        appended.append(kwargs["operation_type"])
        return original(conn, *args, **kwargs)

    monkeypatch.setattr(mongo_engines, "_mongoeco_append_change", counting)
    counts = []
    for engine in (
        engine_for("sqlite", str(tmp_path / "ours.sqlite3")),
        SQLiteEngine(str(tmp_path / "theirs.sqlite3")),
    ):
        appended.clear()
        async with Served(engine) as served:
            coll = await _collection(served)
            await coll.insert_many([_sale(n) for n in range(5)])
            await coll.update_one({"transaction_no": 1}, {"$set": {"note": "x"}})
        counts.append(len(appended))
    assert counts == [0, 6]


@pytest.mark.parametrize("kind", ENGINES)
async def test_id_in_lookups_answer_exactly_the_filter(kind, tmp_path):
    async with Served(engine_for(kind, str(tmp_path / "u.sqlite3"))) as served:
        coll = served.client.db_x_T1.outbox
        await coll.insert_many(
            [{"_id": f"e{i}", "state": "pending" if i % 2 else "published"} for i in range(50)]
        )
        wanted = ["e1", "e2", "e3", "missing"]
        found = await coll.find({"_id": {"$in": wanted}, "state": "pending"}).to_list()
        assert sorted(d["_id"] for d in found) == ["e1", "e3"]
        result = await coll.update_many(
            {"_id": {"$in": wanted}, "state": "pending"}, {"$set": {"state": "publishing"}}
        )
        assert result.matched_count == 2
        assert await coll.count_documents({"state": "publishing"}) == 2


async def test_sorts_order_every_type_as_mongoeco_does(tmp_path):
    """Our SQLite engine's cheaper sort brackets (`sort_type_sql`) and its tracked answer to
    "may this field be sorted in SQL" order a field of every kind of value exactly as
    mongoeco's own SQLite engine does, both ways, with a second key, before and after a write
    that brings an array. The scalar mix is sorted in SQL (the brackets at work); objects,
    arrays, Decimal128 and bytes make mongoeco sort in Python, which must stay unchanged."""
    from bson import Decimal128
    from mongoeco.engines.sqlite import SQLiteEngine

    scalars = [
        3,
        -1.5,
        2**40,
        "b",
        "a",
        "",
        None,
        True,
        False,
        ObjectId("650000000000000000000001"),
        dt.datetime(2026, 12, 6, 10, tzinfo=dt.UTC),
        dt.datetime(2025, 1, 1, tzinfo=dt.UTC),
    ]
    others = [{"x": 1}, {"a": {"b": 2}}, [2, 1], [], Decimal128("2.5"), b"bytes"]
    sorts = [[("v", 1)], [("v", -1)], [("g", 1), ("v", -1)], [("g", -1), ("v", 1), ("k", 1)]]

    def documents(values: list) -> list[dict]:
        docs = [{"k": i, "v": v, "g": i % 3} for i, v in enumerate(values)]
        return [*docs, {"k": len(values) + 1, "g": 1}, {"k": len(values) + 2, "g": 0}]

    # `explain` costs mongoeco about a second of schema validation each: asked only where its
    # answer is read (our engine, first pass), right after the find of the same query, which
    # has done whatever planning the explain could; mongoeco's own engine gives orders only.
    async def orders(engine, values: list, explain: bool) -> tuple[list[list[int]], set[str]]:
        async with Served(engine) as served:
            coll = served.client.db_sort.items
            await coll.insert_many(documents(values))
            found, owners = [], set()
            # The second pass follows a write that brings an array to the sorted field: what
            # the engine learnt about the field in the first pass must not outlive it.
            for later in (None, {"k": 99, "v": [0, 9], "g": 0}):
                if later is not None:
                    await coll.insert_one(later)
                for sort in sorts:
                    for query in ({}, {"g": {"$in": [0, 1]}}):
                        order = [*sort, ("k", 1)]
                        rows = await coll.find(query).sort(order).to_list()
                        found.append([row["k"] for row in rows])
                        if not explain or later is not None:
                            continue
                        explained = await served.client.db_sort.command(
                            {"explain": {"find": "items", "filter": query, "sort": dict(order)}}
                        )
                        owners.add(explained["details"]["pushdown"]["sortOwner"])
            return found, owners

    for name, values, owner in (("scalars", scalars, "sql"), ("all", scalars + others, "python")):
        ours, how = await orders(
            engine_for("sqlite", str(tmp_path / f"o-{name}.db")), values, explain=True
        )
        theirs, _ = await orders(SQLiteEngine(str(tmp_path / f"t-{name}.db")), values, False)
        assert owner in how
        assert ours == theirs
        assert len(ours[0]) == len(values) + 2 and len(ours[2 * len(sorts)]) == len(values) + 3
    # MongoDB's order of types, as the SQL brackets give it: null and missing, numbers,
    # strings, ObjectId, booleans, dates. (The first find of a fresh engine: no explain.)
    ours, _ = await orders(engine_for("sqlite", str(tmp_path / "again.db")), scalars, False)
    assert ours[0] == [6, 13, 14, 1, 0, 2, 5, 4, 3, 9, 8, 7, 11, 10]


async def test_a_regex_next_to_equalities_scans_only_what_they_select(tmp_path, monkeypatch):
    """mongoeco answers a filter it cannot translate whole (a `$regex` beside equalities) by
    decoding every document; ours narrows by the equalities on plain strings first, and
    answers exactly as mongoeco's own engine does: finds with sort and window, counts, a
    collation, and a store whose code is also held in an array somewhere."""
    from mongoeco.engines.sqlite import SQLiteEngine

    docs = [
        {
            "k": n,
            "tenant_id": "T1",
            "store_code": f"S{n % 4}",
            "text": f"receipt {n} {'coffee' if n % 3 else 'tea'}",
            "day": f"2026120{n % 5}",
        }
        for n in range(200)
    ]
    queries = [
        ({"tenant_id": "T1", "store_code": "S1", "text": {"$regex": "coffee"}}, None),
        ({"tenant_id": "T1", "store_code": "S2", "text": {"$regex": "tea|coffee"}}, None),
        ({"store_code": "S3", "day": "20261202", "text": {"$regex": "^receipt 1"}}, None),
        (
            {
                "tenant_id": "T1",
                "day": {"$gte": "20261201", "$lt": "20261203"},
                "text": {"$regex": "tea"},
            },
            None,
        ),
        ({"store_code": "s1", "text": {"$regex": "tea"}}, {"locale": "en", "strength": 2}),
    ]
    array = {"k": 999, "tenant_id": "T1", "store_code": ["S1", "S9"], "text": "coffee"}
    loads: list[str] = []  # whole-collection reads of the journal, by phase
    original = SQLiteEngine._load_documents

    def spy(self, db_name, coll_name):
        if coll_name == "journal":
            loads.append(phase)
        return original(self, db_name, coll_name)

    monkeypatch.setattr(SQLiteEngine, "_load_documents", spy)
    phase = "insert"

    async def answers(engine) -> list:
        nonlocal phase
        async with Served(engine) as served:
            coll = served.client.db_scan.journal
            await coll.insert_many([dict(d) for d in docs])
            found = []
            for name, late in (("strings", None), ("array", array)):
                if late is not None:
                    await coll.insert_one(dict(late))
                phase = name
                for query, collation in queries:
                    cursor = coll.find(query, collation=collation).sort([("k", -1)])
                    found.append([d["k"] for d in await cursor.skip(2).limit(5).to_list()])
                    found.append(await coll.count_documents(query, collation=collation))
                phase = "insert"
            return found

    ours = await answers(engine_for("sqlite", str(tmp_path / "ours.sqlite3")))
    ours_loads, loads[:] = list(loads), []
    theirs = await answers(SQLiteEngine(str(tmp_path / "theirs.sqlite3")))
    assert ours == theirs
    # S1 is n % 4 == 1, coffee n % 3 != 0: 197, 193, 185, 181, 173, ... (skip 2); 50 - 16
    assert ours[0] == [185, 181, 173, 169, 161] and ours[1] == 34
    assert ours[11] == 35  # the array holding "S1" matches too, as in MongoDB
    # mongoeco reads the whole collection for every find and count; ours only for the
    # collation, and once some document holds an array where the equality looks.
    assert loads.count("strings") == 10
    assert ours_loads.count("strings") == 2
    # (Except the date range's find and count: they never look at the store's field.)
    assert ours_loads.count("array") == loads.count("array") - 2


async def _replay_keys(engine, steps) -> list:
    """Writes and reads by `_id` and `$in`, in order; what every read answered (and counted),
    and what the writes matched."""
    answers = []
    async with Served(engine) as served:
        coll = served.client.db_x_T1.outbox
        await coll.create_index([("event_id", 1)], unique=True)
        await coll.create_index([("state", 1)])
        for op, *args in steps:
            if op == "insert":
                await coll.insert_one(dict(args[0]))
            elif op == "update":
                result = await coll.update_many(args[0], args[1])
                answers.append((op, repr(args[0]), result.matched_count))
            else:
                found = await coll.find(args[0]).sort("event_id", 1).to_list()
                count = await coll.count_documents(args[0])
                answers.append((op, repr(args[0]), [d["event_id"] for d in found], count))
    return answers


async def test_id_and_in_filters_answer_as_mongoeco_does(tmp_path):
    """`_id` filters served by the storage key and string `$in` served as a plain `IN` give
    mongoeco's own answers, also once documents hold arrays, numbers or nothing there."""
    from mongoeco.engines.sqlite import SQLiteEngine

    oid = ObjectId()
    steps = [("insert", {"_id": f"e{i}", "event_id": f"e{i}", "state": "p"}) for i in range(8)]
    steps += [
        ("insert", {"_id": oid, "event_id": "legacy", "state": "q"}),
        ("insert", {"_id": 7, "event_id": "int-id", "state": "q"}),
        ("find", {"_id": "e3"}),
        ("find", {"_id": oid}),
        ("find", {"_id": 7}),
        ("find", {"_id": 7.0}),  # MongoDB: the same number
        ("find", {"_id": {"$in": ["e1", "e5", "missing", oid]}}),
        ("find", {"_id": {"$in": ["e1", 7]}}),
        ("find", {"event_id": {"$in": ["e2", "legacy", "nope"]}}),
        ("find", {"event_id": {"$in": ["e2"]}, "state": {"$in": ["p", "q"]}}),
        ("update", {"_id": {"$in": ["e2", "e4"]}, "state": "p"}, {"$set": {"state": "r"}}),
        ("find", {"state": {"$in": ["r"]}}),
        ("insert", {"_id": "n1", "event_id": "n1", "state": 5}),
        ("insert", {"_id": "m1", "event_id": "m1"}),
        ("find", {"state": {"$in": ["p", "r"]}}),
        ("insert", {"_id": "a1", "event_id": "a1", "state": ["x", "r"]}),
        ("find", {"state": {"$in": ["r"]}}),  # now an array holds it: MongoDB matches
        ("find", {"state": {"$in": ["x", "q"]}}),
        ("find", {"state": {"$in": [None]}}),
        ("update", {"_id": "a1"}, {"$set": {"state": "p"}}),
        ("find", {"_id": {"$in": ["a1", "m1"]}, "state": {"$in": ["p"]}}),
    ]
    ours = await _replay_keys(engine_for("sqlite", str(tmp_path / "ours.sqlite3")), steps)
    theirs = await _replay_keys(SQLiteEngine(str(tmp_path / "theirs.sqlite3")), steps)
    assert ours == theirs
    answers = {answer[1]: answer[2] for answer in ours if answer[0] == "find"}  # the last
    assert answers[repr({"_id": {"$in": ["e1", "e5", "missing", oid]}})] == ["e1", "e5", "legacy"]
    assert answers[repr({"state": {"$in": ["r"]}})] == ["a1", "e2", "e4"]


def test_id_and_string_in_filters_become_key_lookups(tmp_path):
    from mongoeco.core.query_plan import compile_filter

    engine = engine_for("sqlite", str(tmp_path / "sql.sqlite3"))
    engine._connect_sync()
    try:
        sql, params = engine._translate_query_plan_with_multikey(
            "db", "c", compile_filter({"_id": {"$in": ["a", "b"]}})
        )
        assert sql == "documents.storage_key IN (?, ?)"
        assert params == [engine._storage_key("a"), engine._storage_key("b")]
        sql, params = engine._translate_query_plan_with_multikey(
            "db", "c", compile_filter({"event_id": {"$in": ["a", "b"]}})
        )
        assert "json_each" not in sql and "IN (?, ?)" in sql and params == ["a", "b"]
        # Numbers keep mongoeco's way (an int equals its double in MongoDB): it declines SQL.
        with pytest.raises(NotImplementedError):
            engine._translate_query_plan_with_multikey(
                "db", "c", compile_filter({"_id": {"$in": [1, 2]}})
            )
    finally:
        engine._connection.close()
        engine._connection = None


@pytest.mark.parametrize("kind", ENGINES)
async def test_comparisons_stay_within_their_type_bracket(kind, tmp_path):
    """MongoDB: `$lt`/`$lte`/`$gt`/`$gte` match values of the query value's bracket only (a null
    or a string is never `<= 10`); numbers of every type compare with each other."""
    async with Served(engine_for(kind, str(tmp_path / "bracket.sqlite3"))) as served:
        coll = served.client.db.entries
        await coll.insert_many(
            [
                {"n": 1, "r": 5},
                {"n": 2, "r": None},
                {"n": 3},
                {"n": 4, "r": 0.5},
                {"n": 5, "r": "7"},
                {"n": 6, "r": [3, "x"]},
            ]
        )

        async def found(filter_: dict) -> list[int]:
            return sorted(d["n"] for d in await coll.find(filter_).to_list())

        assert await found({"r": {"$lte": 10}}) == [1, 4, 6]
        assert await found({"r": {"$lt": 3}}) == [4]
        assert await found({"r": {"$gte": 0, "$lte": 10}}) == [1, 4, 6]
        assert await found({"r": {"$gt": "6"}}) == [5, 6]


async def test_a_long_in_list_on_an_indexed_field_is_answered(tmp_path):
    # A stock request of 1,000 lines looks its rows up with a 1,000-code `$in` on an indexed
    # field; mongoeco's multikey plan ORs one SQL term per code, past SQLite's expression
    # depth of 1,000 ("Expression tree is too large"). No stored document holds an array
    # there, so a plain IN answers the same.
    async with Served(engine_for("sqlite", str(tmp_path / "in.sqlite3"))) as served:
        coll = served.client.db_in.rows
        await coll.create_index([("tenant_id", 1), ("item_code", 1)], unique=True)
        await coll.create_index("item_code")
        await coll.insert_many(
            [{"tenant_id": "T1", "item_code": f"I{n:05d}", "q": n} for n in range(1_500)]
        )
        wanted = [f"I{n:05d}" for n in range(0, 3_000, 2)]  # 1,500 codes, half of them stored
        rows = await coll.find({"tenant_id": "T1", "item_code": {"$in": wanted}}).to_list()
        assert sorted(row["q"] for row in rows) == list(range(0, 1_500, 2))
        # A short list keeps mongoeco's own plan (through the index) and answers alike.
        few = await coll.find({"item_code": {"$in": ["I00003", "I00004", "nope"]}}).to_list()
        assert sorted(row["q"] for row in few) == [3, 4]


async def test_a_long_in_list_of_numbers_is_answered_as_mongodb_does(tmp_path):
    # The offline intake once read 500 transaction numbers with one `$in`: past SQLite's
    # expression depth in mongoeco's plan (two terms a value). With no array stored on the
    # field it is one plain IN, with MongoDB's numeric equality: an integer equals the double
    # of the same value; a string, a boolean or a null never equals a number.
    async with Served(engine_for("sqlite", str(tmp_path / "nin.sqlite3"))) as served:
        coll = served.client.db_in.numbers
        await coll.create_index([("t", 1), ("n", 1)])
        await coll.insert_many([{"t": "T", "n": n, "k": n} for n in range(3, 1_200)])
        odd = [
            {"t": "T", "n": 2.0, "k": 2},
            {"t": "T", "n": 1.5, "k": 1.5},
            {"t": "T", "n": "1", "k": "s"},
            {"t": "T", "n": True, "k": "b"},
            {"t": "T", "n": None, "k": "z"},
            {"t": "T", "k": "missing"},
        ]
        await coll.insert_many(odd)
        wanted = [*range(1, 2_400, 3), 1.5, 2, 2_000_000]  # 803 numbers
        rows = await coll.find({"t": "T", "n": {"$in": wanted}}).to_list()
        assert sorted(row["k"] for row in rows) == sorted([*range(4, 1_200, 3), 1.5, 2])
        assert await coll.count_documents({"n": {"$in": [float(v) for v in wanted]}}) == len(rows)
        # Once an array is stored there, an element matches too (mongoeco's own plan).
        await coll.insert_one({"t": "T", "n": [7_000, 1_000], "k": "array"})
        found = await coll.find({"n": {"$in": [1_000, 7_000]}}).to_list()
        assert sorted(str(row["k"]) for row in found) == ["1000", "array"]


async def test_a_compound_key_finds_its_document_without_reading_the_others(monkeypatch):
    # A count's lines are upserted by (tenant, count, item, zone); mongoeco's memory plan
    # uses single-field indexes only, so each upsert matched every stored line: a 1,000-line
    # entry grew from 4 s to 17 s as the tenant's lines grew by 2,000.
    engine = engine_for("memory")
    examined: list[int] = []
    original = IndexedUniqueMemoryEngine._candidate_items_for_plan_locked

    def spy(self, coll, query_plan, **kwargs):
        found = original(self, coll, query_plan, **kwargs)
        examined.append(len(found))
        return found

    monkeypatch.setattr(IndexedUniqueMemoryEngine, "_candidate_items_for_plan_locked", spy)
    key = [("tenant_id", 1), ("count_id", 1), ("item_code", 1), ("zone", 1)]

    def line(count: str, item: int, zone: str = "shelf") -> dict:
        return {"tenant_id": "T1", "count_id": count, "item_code": f"I{item:04d}", "zone": zone}

    async with Served(engine) as served:
        coll = served.client.db_stock_T1.stock_count_lines
        await coll.create_index(key, unique=True)
        await coll.insert_many([{**line("c1", n), "units": n} for n in range(500)])

        examined.clear()
        async with (
            served.client.start_session() as session,
            await session.start_transaction(),
        ):
            await coll.bulk_write(
                [
                    UpdateOne(line("c1", n), {"$set": {"units": -n}}, upsert=True)
                    for n in (7, 600)  # one replaced, one new
                ],
                session=session,
            )
        assert examined == [1, 0]  # the document under its key, or none: not the 500
        assert (await coll.find_one(line("c1", 7)))["units"] == -7
        assert (await coll.find_one(line("c1", 600)))["units"] == -600
        assert await coll.count_documents({"tenant_id": "T1"}) == 501

        # Answers as mongoeco's plan: another filter beside the key, a key not stored.
        examined.clear()
        assert await coll.find_one({**line("c1", 8), "units": 8}) is not None
        assert await coll.find_one({**line("c1", 8), "units": 9}) is None
        assert await coll.find_one(line("c2", 8)) is None
        assert examined == [1, 1, 0]
        # A prefix of the key is not a key: mongoeco's plan, every line of the count.
        assert len(await coll.find({"tenant_id": "T1", "count_id": "c1"}).to_list()) == 501

        # A document made multikey on the index: mongoeco's plan from then on, still found.
        await coll.update_one(line("c1", 9), {"$set": {"zone": ["shelf", "back"]}})
        found = await coll.find_one({**line("c1", 9), "zone": "back"})
        assert found is not None and found["units"] == 9
        examined.clear()
        assert await coll.find_one(line("c1", 10)) is not None
        assert examined == [501]


async def test_a_sparse_or_partial_compound_index_keeps_mongoecos_plan():
    async with Served(engine_for("memory")) as served:
        coll = served.client.db_x.docs
        await coll.create_index([("a", 1), ("b", 1)], partialFilterExpression={"n": {"$gt": 0}})
        await coll.insert_many([{"a": "x", "b": "y", "n": n} for n in (-1, 0, 1)])
        # Two of the three are outside the index, yet match the filter.
        assert len(await coll.find({"a": "x", "b": "y"}).to_list()) == 3


@pytest.mark.parametrize("kind", ENGINES)
async def test_a_long_in_matches_from_a_set_as_mongoeco_matches(kind, tmp_path, monkeypatch):
    # mongoeco's compiled `$in` compared every value with every listed value: a count post
    # of 5,000 items read its 5,000 rows by a 5,000-code `$in` (25 million comparisons).
    from mongoeco.core.filtering import QueryEngine

    docs = [
        {"n": 0, "v": "a"},
        {"n": 1, "v": 1},
        {"n": 2, "v": 1.0},
        {"n": 3, "v": ["x", "b"]},
        {"n": 4},
        {"n": 5, "v": None},
        {"n": 6, "v": "B"},
        {"n": 7, "v": {"k": 1}},
        {"n": 8, "v": True},
        {"n": 9, "v": "zeta"},
    ]
    filters = [
        {"v": {"$in": ["a", "b", "c", "d", "e", "f", "g", "h", "i", 1]}},
        {"v": {"$in": [None, "q", "r", "s", "t", "u", "w", "y", "z", {"k": 1}]}},
        {"v": {"$in": [re.compile("^ze"), "0", "1", "2", "3", "4", "5", "6", "7", "x"]}},
        {"v": {"$nin": ["a", "b", "c", "d", "e", "f", "g", "h", "i", True]}},
        {"v": {"$in": ["A", "b ", "1", "true", "None", "x", "k", "l", "m", "n"]}},
        {"v": {"$in": [True, 1.0, ["x", "b"], "zeta", "p", "q", "r", "s", "t", "u"]}},
    ]
    compared: list[int] = []
    original = QueryEngine._in_item_matches_candidate.__func__

    def spy(cls, *args, **kwargs):
        compared.append(1)
        return original(cls, *args, **kwargs)

    async with Served(engine_for(kind, str(tmp_path / "in.sqlite3"))) as served:
        coll = served.client.db_in.docs
        await coll.insert_many([dict(d) for d in docs])
        monkeypatch.setattr(QueryEngine, "_in_item_matches_candidate", classmethod(spy))
        for filter_ in filters:
            found = sorted(d["n"] for d in await coll.find(filter_).to_list())
            expected = sorted(d["n"] for d in docs if QueryEngine.match(d, filter_))
            assert found == expected, filter_
        # The long `$in`s never compared value by value ($nin keeps mongoeco's code).
        in_only = [f for f in filters if "$in" in f["v"]]
        compared.clear()
        for filter_ in in_only:
            await coll.find(filter_).to_list()
        assert compared == []


@pytest.mark.parametrize("kind", ENGINES)
async def test_an_empty_in_matches_nothing(kind, tmp_path):
    # SQLite: mongoeco wrote `IN ()`, a syntax error (a 500 for a count opened with no line).
    async with Served(engine_for(kind, str(tmp_path / "e.sqlite3"))) as served:
        coll = served.client.db_e.rows
        await coll.create_index([("tenant_id", 1), ("item_code", 1)], unique=True)
        await coll.create_index("item_code")
        await coll.insert_many([{"tenant_id": "T1", "item_code": f"I{n}"} for n in range(5)])
        assert await coll.find({"tenant_id": "T1", "item_code": {"$in": []}}).to_list() == []
        assert await coll.find({"other": {"$in": []}}).to_list() == []
        assert await coll.count_documents({"item_code": {"$nin": []}}) == 5
        either = {"$or": [{"item_code": {"$in": []}}, {"item_code": "I1"}]}
        assert [d["item_code"] for d in await coll.find(either).to_list()] == ["I1"]


async def test_an_equality_on_a_field_with_its_own_index_is_served_by_the_key(tmp_path):
    # mongoeco ORs such an equality with an EXISTS on its multikey table, correlated per row
    # and served by (collection, index) only: an update of one stock row by (tenant, store,
    # item) read every row of the store and, per row, every entry of the item index.
    from mongoeco.core.query_plan import compile_filter
    from mongoeco.engines.semantic_core import compile_find_semantics

    engine = engine_for("sqlite", str(tmp_path / "eq.sqlite3"))

    def explained(filter_: dict) -> str:
        plan = engine._compile_read_execution_plan(
            "db_eq",
            "stocks",
            compile_find_semantics({}, plan=compile_filter(filter_), limit=1),
            select_clause="storage_key, document",
            hint=None,
        )
        sql, params = plan.require_sql()
        rows = engine._connection.execute("EXPLAIN QUERY PLAN " + sql, tuple(params)).fetchall()
        return "\n".join(str(row[-1]) for row in rows)

    async with Served(engine) as served:
        coll = served.client.db_eq.stocks
        await coll.create_index(
            [("tenant_id", 1), ("store_code", 1), ("item_code", 1)], unique=True
        )
        await coll.create_index("item_code")
        await coll.insert_many(
            [
                {"tenant_id": "T1", "store_code": "S1", "item_code": f"C{n}", "q": n}
                for n in range(300)
            ]
        )
        key = {"tenant_id": "T1", "store_code": "S1", "item_code": "C5"}
        plan = explained(key)
        assert "multikey_entries" not in plan, plan
        assert plan.count("<expr>=?") == 3, plan  # the three fields of the key, by the index
        await coll.update_one(key, {"$inc": {"q": 100}})
        assert (await coll.find_one(key))["q"] == 105
        assert await coll.count_documents({"item_code": "C7"}) == 1
        # An array stored on the field: mongoeco's translation again, elements found.
        await coll.insert_one({"tenant_id": "T1", "store_code": "S2", "item_code": ["C5", "Z"]})
        assert "multikey_entries" in explained({"item_code": "Z"})
        found = await coll.find({"item_code": "C5"}).to_list()
        assert sorted(d["store_code"] for d in found) == ["S1", "S2"]
        assert await coll.count_documents({"item_code": "Z"}) == 1
