"""Pytest fixtures for the embedded stack (loaded for every run via `-p` in the root addopts).

Session fixtures:
- `redis_url`: a Redis of its own (the sidecar's conformance tests flush and reconfigure it,
  so it never shares a server with the services).
- `mongo_uri`: a MongoDB wire server of its own for tests of commons (not a service's).
- `stack`: the session stack with every registered service, started once and shared by every
  test file that asks for it; each service has its own MongoDB (`stack.mongo_uri_for(name)`).
- `stack_factory`: private stacks for the rare test that needs different settings, stopped
  at the end of the test module that asked for them.
- `devstack_extra_env`: override in a conftest to pass settings to the session's services.

Every test that uses one of these fixtures is marked `needs_stack`; `make test-fast` runs the
others alone (`-m 'not needs_stack'`).

Options: `--devstack-dir DIR` (or KUGELPOS_DEVSTACK_DIR) keeps logs and pids in DIR (a
directory per pytest-xdist worker below it: `make test` runs two);
`--devstack-log-lines N` sets how many lines of each log a failing stack test shows.

MONGODB_URI (`make test MONGODB_URI=...`): every stack uses that MongoDB (a replica set)
instead of starting wire servers. Each stack with services has a database namespace of its
own (`stack.db_name(service, tenant)` names its databases), so the session's stack, the
private ones and another run on the same server never read each other's data or outboxes; a
run that passed drops its databases there, one that failed keeps them and says where.
Tests of the embedded engine itself (`requires_embedded_mongo`) are skipped.
"""

from __future__ import annotations

import importlib.util
import os
import secrets
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from pymongo import MongoClient

from kugelpos.devstack import processes
from kugelpos.devstack.stack import MONGO, REDIS, SIDECAR, SIDECAR_MODULE, Stack, is_infra

_HOLDER = pytest.StashKey["_SessionStacks"]()
# The full stack starts about fifteen processes at once; on two busy cores that can take a
# while, and how long it takes is not what any test checks.
STARTUP_TIMEOUT_SECONDS = 90.0
EMBEDDED_ONLY = "requires_embedded_mongo"
NEEDS_STACK = "needs_stack"
# A test asking for any of these (directly or through its other fixtures) starts processes.
STACK_FIXTURES = frozenset(
    {"devstack_sessions", "stack", "stack_factory", "mongo_uri", "redis_url"}
)


def external_mongodb_uri() -> str | None:
    """The MongoDB every test stack uses instead of its own wire servers, if one is given."""
    return os.environ.get("MONGODB_URI") or None


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{EMBEDDED_ONLY}: exercises the embedded MongoDB wire servers themselves (kills one, "
        "compares its engines); skipped when MONGODB_URI points the stacks at another MongoDB",
    )
    config.addinivalue_line(
        "markers",
        f"{NEEDS_STACK}: starts processes of the local stack (Redis, MongoDB wire servers, the "
        "sidecar, services). Added by this plugin to every test using a stack fixture; set by "
        "hand on a test that starts processes itself. `make test-fast` runs the others "
        f"(-m 'not {NEEDS_STACK}')",
    )


# First: `-m 'not needs_stack'` deselects in pytest's own hook, which must see the markers.
@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if STACK_FIXTURES.intersection(getattr(item, "fixturenames", ())):
            item.add_marker(NEEDS_STACK)
    if external_mongodb_uri() is None:
        return
    skip = pytest.mark.skip(reason="MONGODB_URI is set: the stacks start no embedded MongoDB")
    for item in items:
        if item.get_closest_marker(EMBEDDED_ONLY) is not None:
            item.add_marker(skip)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("devstack", "embedded local stack")
    group.addoption(
        "--devstack-dir",
        default=os.environ.get("KUGELPOS_DEVSTACK_DIR"),
        help="directory for stack logs/pids, kept after the run (default: pytest tmp dir)",
    )
    group.addoption(
        "--devstack-log-lines",
        type=int,
        default=40,
        help="lines of each stack log attached to a failing test that uses the stack",
    )


def _sidecar_runnable() -> bool:
    try:
        return importlib.util.find_spec(f"{SIDECAR_MODULE}.__main__") is not None
    except ModuleNotFoundError:
        return False


class _SessionStacks:
    """Builds stacks on first use and stops them all when the session ends."""

    def __init__(self, base_dir: Path) -> None:
        self.base_dir = base_dir
        self._main: Stack | None = None
        self._redis: Stack | None = None
        self._mongo: Stack | None = None
        self._extra: list[Stack] = []
        self._main_env: dict[str, str] | None = None
        self.notes: list[str] = []
        self.namespaces: list[str] = []

    def _new(self, name: str, **options: Any) -> Stack:
        options.setdefault("startup_timeout", STARTUP_TIMEOUT_SECONDS)
        if options.get("services", True) and "db_namespace" not in options:
            # Also on the embedded engine, where nothing is shared: a test that names a
            # database itself instead of asking `stack.db_name` fails here, not only on CI's
            # MongoDB.
            options["db_namespace"] = "t" + secrets.token_hex(4)
            self.namespaces.append(options["db_namespace"])
        return Stack(
            self.base_dir / name,
            mongodb_uri=external_mongodb_uri(),
            die_with_parent=True,
            **options,
        )

    @property
    def main(self) -> Stack | None:
        return self._main

    def main_stack(self) -> Stack:
        if self._main is None:
            include_sidecar = _sidecar_runnable()
            if not include_sidecar:
                self.notes.append(f"{SIDECAR_MODULE} is not runnable yet: stack ran without Dapr")
            self._main = self._new("stack", include_sidecar=include_sidecar)
        return self._main

    def full(self, extra_env: Mapping[str, str]) -> Stack:
        stack = self.main_stack()
        wanted = dict(extra_env)
        if self._main_env is None:
            self._main_env = wanted
            stack.extra_env = wanted
        elif self._main_env != wanted:
            pytest.fail(
                f"the session stack already runs with devstack_extra_env={self._main_env!r}; "
                f"this test asks for {wanted!r}. Use `stack_factory` for different settings."
            )
        return stack.start()

    def redis_only(self) -> Stack:
        if self._redis is None:
            self._redis = self._new(
                "redis", services=(), include_mongo=False, include_sidecar=False
            )
            self._redis.start([REDIS])
        return self._redis

    def mongo_only(self) -> Stack:
        if self._mongo is None:
            self._mongo = self._new("mongo", services=(), include_sidecar=False)
            if not self._mongo.external_mongo:
                self._mongo.start([MONGO])
        return self._mongo

    def private(self, **options: Any) -> Stack:
        stack = self._new(f"private-{len(self._extra) + 1}", **options)
        self._extra.append(stack)
        return stack.start()

    def stop_all(self, *, keep_data: bool) -> None:
        for stack in [*self._extra, self._main, self._redis, self._mongo]:
            if stack is not None:
                stack.stop()
        uri = external_mongodb_uri()
        if uri is None or not self.namespaces:
            return
        if keep_data:
            self.notes.append(
                "databases kept on the MongoDB of MONGODB_URI, names starting with "
                + ", ".join(f"{namespace}_" for namespace in self.namespaces)
            )
            return
        dropped = drop_namespaced_databases(uri, self.namespaces)
        self.notes.append(f"dropped this run's {dropped} databases on the MongoDB of MONGODB_URI")


def drop_namespaced_databases(uri: str, namespaces: list[str]) -> int:
    """Drop every database whose name starts with `<namespace>_`; returns how many."""
    prefixes = tuple(f"{namespace}_" for namespace in namespaces)
    with MongoClient(uri, serverSelectionTimeoutMS=5_000) as client:
        names = [name for name in client.list_database_names() if name.startswith(prefixes)]
        for name in names:
            client.drop_database(name)
    return len(names)


@pytest.fixture(scope="session")
def devstack_sessions(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[_SessionStacks]:
    chosen = request.config.getoption("--devstack-dir")
    # Under pytest-xdist (`make test`) each worker has stacks of its own: its own directory.
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    base_dir = (
        (Path(chosen).resolve() / (worker or "")) if chosen else tmp_path_factory.mktemp("devstack")
    )
    holder = _SessionStacks(base_dir)
    request.config.stash[_HOLDER] = holder
    try:
        yield holder
    finally:
        holder.stop_all(keep_data=request.session.testsfailed > 0)


@pytest.fixture(scope="session")
def devstack_extra_env() -> dict[str, str]:
    """Extra environment for the session stack's services; override in a conftest."""
    return {}


@pytest.fixture(scope="session")
def redis_url(devstack_sessions: _SessionStacks) -> str:
    return devstack_sessions.redis_only().redis_url


@pytest.fixture(scope="session")
def mongo_uri(devstack_sessions: _SessionStacks) -> str:
    return devstack_sessions.mongo_only().mongo_uri


@pytest.fixture(scope="session")
def stack(devstack_sessions: _SessionStacks, devstack_extra_env: dict[str, str]) -> Stack:
    return devstack_sessions.full(devstack_extra_env)


@pytest.fixture(scope="module")
def stack_factory(devstack_sessions: _SessionStacks) -> Iterator[Callable[..., Stack]]:
    """stack_factory(**Stack options) -> a started private stack, stopped when the test module
    that asked for it ends. (Left running to the end of the session, the private stacks kept
    their relays, wire servers and sidecars busy for every later test: a backlog stack's relay
    republishing unacknowledged events cost two of its wire servers ~7 % of a core each.)"""
    made: list[Stack] = []

    def factory(**options: Any) -> Stack:
        stack = devstack_sessions.private(**options)
        made.append(stack)
        return stack

    yield factory
    for stack in made:
        stack.stop()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    if report.failed and "stack" in getattr(item, "fixturenames", ()):
        holder = item.config.stash.get(_HOLDER, None)
        main = holder.main if holder is not None else None
        if main is not None:
            lines = item.config.getoption("--devstack-log-lines")
            for name in main.component_names:
                if is_infra(name) and name != SIDECAR:
                    continue
                log = main.log_path(name)
                if log.exists():
                    report.sections.append((f"devstack {name} log", processes.tail(log, lines)))
    return report


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    holder = config.stash.get(_HOLDER, None)
    if holder is None:
        return
    for note in holder.notes:
        terminalreporter.write_line(f"devstack: {note}")
    if exitstatus != 0:
        terminalreporter.write_line(f"devstack: logs kept in {holder.base_dir}")
