"""What the pytest plugin does when MONGODB_URI points the test stacks at another MongoDB:
engine tests skipped, each stack's databases apart and dropped by namespace afterwards."""

from __future__ import annotations

import secrets

import pytest
from pymongo import MongoClient

from kugelpos.testkit import pytest_plugin
from kugelpos.testkit.pytest_plugin import EMBEDDED_ONLY, drop_namespaced_databases


class _Item:
    """Just what pytest_collection_modifyitems looks at on a collected test."""

    def __init__(self, *markers: str) -> None:
        self.markers = list(markers)
        self.added: list[pytest.MarkDecorator] = []

    def get_closest_marker(self, name: str) -> object | None:
        return name if name in self.markers else None

    def add_marker(self, marker: pytest.MarkDecorator) -> None:
        self.added.append(marker)


@pytest.mark.parametrize("uri", ["", "mongodb://db.example:27017/?replicaSet=rs0"])
def test_engine_tests_are_skipped_only_against_another_mongodb(monkeypatch, uri: str) -> None:
    monkeypatch.setenv("MONGODB_URI", uri)
    engine, plain = _Item(EMBEDDED_ONLY), _Item("asyncio")
    pytest_plugin.pytest_collection_modifyitems(None, [engine, plain])  # type: ignore[arg-type]
    assert plain.added == []
    if uri:
        (skip,) = engine.added
        assert skip.name == "skip" and "MONGODB_URI" in skip.kwargs["reason"]
    else:
        assert engine.added == []


def test_only_the_namespaces_databases_are_dropped(mongo_uri: str) -> None:
    namespace = "t" + secrets.token_hex(4)
    ours = [f"{namespace}_db_cart_T1", f"{namespace}_db_cart_commons"]
    # A namespace that merely starts the same, and a database of no namespace.
    theirs = [f"{namespace}0_db_cart_T1", f"db_cart_{namespace}"]
    with MongoClient(mongo_uri) as client:
        for name in ours + theirs:
            client[name]["c"].insert_one({"x": 1})
        try:
            assert drop_namespaced_databases(mongo_uri, [namespace]) == 2
            left = set(client.list_database_names())
            assert not left & set(ours)
            assert set(theirs) <= left
        finally:
            for name in theirs:
                client.drop_database(name)
