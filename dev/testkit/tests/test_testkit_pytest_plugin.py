"""What the pytest plugin does when MONGODB_URI points the test stacks at another MongoDB:
engine tests skipped, each stack's databases apart and dropped by namespace afterwards; and
which tests it marks `needs_stack` (what `make test-fast` leaves out)."""

from __future__ import annotations

import secrets

import pytest
from pymongo import MongoClient

from kugelpos.testkit import pytest_plugin
from kugelpos.testkit.pytest_plugin import EMBEDDED_ONLY, NEEDS_STACK, drop_namespaced_databases

pytest_plugins = ["pytester"]


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


def test_tests_using_a_stack_fixture_are_marked_and_test_fast_leaves_them_out(
    pytester: pytest.Pytester,
) -> None:
    pytester.makeconftest(
        """
        import pytest

        @pytest.fixture
        def world(stack_factory):  # a stack fixture reached through another fixture
            return stack_factory
        """
    )
    pytester.makepyfile(
        """
        import pytest

        def test_pure():
            pass

        def test_session_stack(stack):
            pass

        def test_through_a_fixture(world):
            pass

        def test_commons(mongo_uri, redis_url):
            pass

        @pytest.mark.needs_stack
        def test_starts_processes_itself():
            pass
        """
    )
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = session\n")
    plugin = ["-p", "kugelpos.testkit.pytest_plugin"]
    # Collection only: nothing starts (the fixtures run with the tests).
    fast = pytester.runpytest(*plugin, "--collect-only", "-q", "-m", f"not {NEEDS_STACK}")
    fast.stdout.fnmatch_lines(["*::test_pure", "1/5 tests collected (4 deselected)*"])
    slow = pytester.runpytest(*plugin, "--collect-only", "-q", "-m", NEEDS_STACK)
    slow.stdout.fnmatch_lines(["4/5 tests collected (1 deselected)*"])
    assert "test_pure" not in slow.stdout.str()
