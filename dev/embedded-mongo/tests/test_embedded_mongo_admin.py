"""`listDatabases`, `dbStats` and `collStats` on the embedded server (issue 23).

The report service's SQLite server answered `listDatabases` with "$bsonSize cannot encode value
of type BsonInt32" once a report database existed: a counter that an `$inc` takes back from
the int64 range into the int32 range is stored int32-tagged and mongoeco's sizer did not know
the wrapper it reads back. Every case runs through the real wire server with PyMongo, on both
engines; sizes are compared with what PyMongo's own BSON encoder makes of the documents.
"""

from __future__ import annotations

from pathlib import Path

import bson
import pytest
from bson import Decimal128, Int64, MaxKey, MinKey
from mongoeco.api._async._database_admin_namespace import DatabaseNamespaceAdminService
from pymongo import AsyncMongoClient

from kugelpos.embedded_mongo.admin import on_name_only
from kugelpos.embedded_mongo.engines import engine_for
from kugelpos.embedded_mongo.gate import GatedProxyServer

ENGINES = ["memory", "sqlite"]


class Served:
    """A wire server over one engine and a client of it."""

    def __init__(self, kind: str, path: Path) -> None:
        self.server = GatedProxyServer(engine=engine_for(kind, str(path)), port=0)

    async def __aenter__(self) -> Served:
        address = await self.server.start()
        self.client = AsyncMongoClient(address.uri)
        return self

    async def __aexit__(self, *exc) -> None:
        await self.client.close()
        await self.server.close()


async def _report_counters(served: Served):
    """The report's pattern: a day's cash counter goes past int32 (10,000 yen in millionths)
    and a return's negative `$inc` takes another one back into the int32 range."""
    agg = served.client.db_report_T1.agg_hour
    await agg.insert_one({"_id": "h1", "c": {"cash|in|a": 10_000_000_000, "pay|01|a": 0}})
    await agg.update_one({"_id": "h1"}, {"$inc": {"c.pay|01|a": 3_101_000_000}})
    await agg.update_one({"_id": "h1"}, {"$inc": {"c.pay|01|a": -3_100_000_000}})
    await agg.update_one(
        {"_id": "h2"},
        {"$inc": {"c.n": Int64(2**40)}, "$set": {"d": Decimal128("1.5")}},
        upsert=True,
    )
    await agg.update_one({"_id": "h2"}, {"$inc": {"c.n": -(2**40) + 7}})
    await served.client.db_report_T1.bounds.insert_one({"_id": "b", "lo": MinKey(), "hi": MaxKey()})
    return agg


async def _encoded_sizes(served: Served, db_name: str) -> int:
    """What the documents measure as BSON (PyMongo's encoder), read back through the server."""
    db = served.client[db_name]
    total = 0
    for name in await db.list_collection_names():
        total += sum(len(bson.encode(doc)) for doc in await db[name].find().to_list())
    return total


@pytest.mark.parametrize("kind", ENGINES)
async def test_list_databases_sizes_counters_an_inc_took_back_into_int32(kind, tmp_path):
    async with Served(kind, tmp_path / "a.sqlite3") as served:
        agg = await _report_counters(served)
        stored = await agg.find_one({"_id": "h1"})
        assert stored["c"]["pay|01|a"] == 1_000_000  # the wire answer was always right
        assert (await agg.find_one({"_id": "h2"}))["c"]["n"] == 7

        listing = await served.client.admin.command("listDatabases")
        (entry,) = listing["databases"]
        expected = await _encoded_sizes(served, "db_report_T1")
        assert entry["name"] == "db_report_T1" and entry["sizeOnDisk"] == expected
        assert listing["totalSize"] == expected and entry["empty"] is False
        stats = await served.client.db_report_T1.command("dbStats")
        assert stats["objects"] == 3 and stats["dataSize"] == expected
        coll = await served.client.db_report_T1.command("collStats", "agg_hour")
        assert coll["count"] == 2
        assert await served.client.list_database_names() == ["db_report_T1"]


@pytest.mark.parametrize("kind", ENGINES)
async def test_name_only_reads_no_document(kind, tmp_path, monkeypatch):
    """`list_database_names` (nameOnly) is answered from the names, as MongoDB does: the stock
    scheduler asks every 30 s, and sizing every document took seconds of the server's thread."""
    sized: list[str] = []
    original = DatabaseNamespaceAdminService.collection_stats

    async def counting(self, collection_name, **kwargs):
        sized.append(collection_name)
        return await original(self, collection_name, **kwargs)

    monkeypatch.setattr(DatabaseNamespaceAdminService, "collection_stats", counting)
    async with Served(kind, tmp_path / "n.sqlite3") as served:
        for name in ("db_stock_T1", "db_stock_T2", "db_stock_commons", "db_cart_T1"):
            await served.client[name].items.insert_many([{"n": n} for n in range(50)])
        names = await served.client.list_database_names()
        assert sorted(names) == ["db_cart_T1", "db_stock_T1", "db_stock_T2", "db_stock_commons"]
        prefix = {"name": {"$regex": "^db_stock_"}, "$nor": [{"name": "db_stock_commons"}]}
        answer = await served.client.admin.command("listDatabases", nameOnly=True, filter=prefix)
        assert sorted(d["name"] for d in answer["databases"]) == ["db_stock_T1", "db_stock_T2"]
        assert all(set(d) == {"name"} for d in answer["databases"])
        assert sized == []  # not one collection read for the names

        # A filter on the sizes, or no nameOnly, still sizes (mongoeco's own path).
        sizes = {"sizeOnDisk": {"$gt": 0}}
        big = await served.client.admin.command("listDatabases", nameOnly=True, filter=sizes)
        assert sorted(d["name"] for d in big["databases"]) == sorted(names) and sized
        sized.clear()
        full = await served.client.admin.command("listDatabases")
        assert {d["name"] for d in full["databases"]} == set(names) and sized


def test_on_name_only() -> None:
    assert on_name_only({})
    assert on_name_only({"name": "a"})
    assert on_name_only({"$or": [{"name": "a"}, {"$and": [{"name": {"$ne": "b"}}]}]})
    assert not on_name_only({"sizeOnDisk": {"$gt": 1}})
    assert not on_name_only({"$or": [{"name": "a"}, {"empty": False}]})
    assert not on_name_only({"$and": "name"})
