"""Harness for the sidecar's conformance tests: the sidecar and subscriber apps as processes.

Everything runs for real: the sidecar as `python -m kugelpos.sidecar`, subscribers as uvicorn
processes (subscriber_app.py), against the Redis of the `redis_url` session fixture. Nothing
waits a fixed time: every wait polls a condition with a deadline.
"""

import atexit
import contextlib
import functools
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis
import yaml

TESTS_DIR = Path(__file__).resolve().parent
PRODUCT_COMPONENTS = TESTS_DIR.parents[1] / "components"
PRODUCT_CONFIG = TESTS_DIR.parents[1] / "config.yaml"
SCOPE_METADATA = frozenset(
    {"allowedTopics", "publishingScopes", "subscriptionScopes", "protectedTopics"}
)
SUBSCRIBER_APP = TESTS_DIR / "subscriber_app.py"

# Fast redelivery so retries show up in well under a second; backoff 0.2, 0.4, 0.8, 1.0, ...
FAST_SETTINGS = (
    "--redeliver-interval=0.2",
    "--max-backoff=1.0",
    "--processing-timeout=2",
    "--subscribe-poll-interval=0.5",
)


@functools.cache
def unscoped_components() -> Path:
    """The product's component files without their app and topic scoping. These tests run apps
    of their own ids on topics of their own; the scoping is tested apart
    (test_sidecar_scopes.py), and on the product's own files end to end."""
    target = Path(tempfile.mkdtemp(prefix="sidecar-components-"))
    atexit.register(shutil.rmtree, target, True)
    for path in sorted(PRODUCT_COMPONENTS.glob("*.yaml")):
        doc = yaml.safe_load(path.read_text())
        if doc.get("kind") != "Component":  # the resiliency policy: the sidecar skips it
            continue
        doc.pop("scopes", None)
        spec = doc["spec"]
        spec["metadata"] = [m for m in spec["metadata"] if m["name"] not in SCOPE_METADATA]
        (target / path.name).write_text(yaml.safe_dump(doc, sort_keys=False))
    return target


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until[T](condition: Callable[[], T], timeout: float = 10.0, what: str = "condition") -> T:
    deadline = time.monotonic() + timeout
    while True:
        with contextlib.suppress(httpx.TransportError):
            result = condition()
            if result:
                return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.05)


class Process:
    """A child process with its output in a log file, stopped by its own pid only."""

    def __init__(self, argv: list[str], log: Path, env: dict[str, str] | None = None) -> None:
        self.argv = argv
        self.log = log
        self.env = env
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        env = None if self.env is None else {**os.environ, **self.env}
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(self.argv, stdout=out, stderr=subprocess.STDOUT, env=env)

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill(self) -> None:
        """SIGKILL: no shutdown hooks, like a crash."""
        if self.alive():
            assert self.proc is not None
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.alive():
            assert self.proc is not None
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


class Subscriber:
    def __init__(
        self,
        app_id: str,
        subscriptions: list[dict[str, Any]],
        workdir: Path,
        app_token: str | None = None,
    ) -> None:
        self.app_id = app_id
        self.app_token = app_token
        self.workdir = workdir
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.record = workdir / f"{app_id}.jsonl"
        self.reconfigure(subscriptions)

    def reconfigure(self, subscriptions: list[dict[str, Any]]) -> None:
        """Next start() declares these subscriptions (same id, port and record)."""
        argv = [
            sys.executable,
            str(SUBSCRIBER_APP),
            f"--port={self.port}",
            f"--app-id={self.app_id}",
            f"--subscriptions={json.dumps(subscriptions)}",
            f"--record={self.record}",
            *([f"--app-token={self.app_token}"] if self.app_token else []),
        ]
        self.process = Process(argv, self.workdir / f"{self.app_id}.log")

    def start(self) -> None:
        self.process.start()
        self.wait_ready()

    def wait_ready(self) -> None:
        wait_until(
            lambda: self.process.alive() and httpx.get(f"{self.url}/dapr/subscribe").is_success,
            # Starting a Python process can take a while on a loaded machine; how long it
            # takes is not what these tests check.
            timeout=30,
            what=f"subscriber {self.app_id}:\n{self.process.output()}",
        )

    def deliveries(self, key: str, route: str | None = None) -> list[dict[str, Any]]:
        if not self.record.exists():
            return []
        records = [json.loads(line) for line in self.record.read_text().splitlines() if line]
        return [r for r in records if r["key"] == key and (route is None or r["route"] == route)]

    def wait_deliveries(
        self, key: str, count: int, route: str | None = None, timeout: float = 10.0
    ) -> list[dict[str, Any]]:
        return wait_until(
            lambda: (found := self.deliveries(key, route)) and len(found) >= count and found,
            timeout=timeout,
            what=f"{count} deliveries of {key} to {self.app_id} {route or ''}",
        )


def _first_token(env: dict[str, str]) -> str | None:
    if env.get("DAPR_API_TOKEN"):
        return env["DAPR_API_TOKEN"]
    tokens = json.loads(env.get("DAPR_API_TOKENS") or "{}")
    return next(iter(tokens.values()), None)


class Sidecar:
    def __init__(
        self,
        redis_url: str,
        apps: list[Subscriber],
        workdir: Path,
        extra: tuple[str, ...] = (),
        env: dict[str, str] | None = None,
        components: Path | None = None,
    ) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        argv = [
            sys.executable,
            "-m",
            "kugelpos.sidecar",
            f"--port={self.port}",
            f"--redis-url={redis_url}",
            f"--components-path={components or unscoped_components()}",
            *[f"--app={a.app_id}={a.url}" for a in apps],
            *extra,
        ]
        self.process = Process(argv, workdir / f"sidecar-{self.port}.log", env)
        # With API tokens configured, the helpers below (metadata, publish) call as the app
        # whose token is in DAPR_API_TOKEN or first in DAPR_API_TOKENS.
        token = _first_token(env or {})
        headers = {"dapr-api-token": token} if token else None
        self.http = httpx.Client(base_url=self.url, timeout=10, headers=headers)

    def client(self, token: str | None) -> httpx.Client:
        """A client calling this sidecar with `token` (None: no token at all)."""
        headers = {"dapr-api-token": token} if token is not None else None
        return httpx.Client(base_url=self.url, timeout=10, headers=headers)

    def start(self) -> None:
        self.process.start()
        self.wait_ready()

    def wait_ready(self) -> None:
        wait_until(
            lambda: self.process.alive() and self.http.get("/v1.0/healthz").status_code == 204,
            timeout=30,
            what=f"sidecar healthz:\n{self.process.output()}",
        )

    def restart_after_kill(self) -> None:
        self.process.kill()
        self.start()

    def subscribed(self, app_id: str, topic: str) -> bool:
        subs = self.http.get("/v1.0/metadata").json()["subscriptions"]
        return any(s["appID"] == app_id and s["topic"] == topic for s in subs)

    def wait_subscribed(self, pairs: list[tuple[str, str]], timeout: float = 15.0) -> None:
        for app_id, topic in pairs:
            wait_until(
                lambda a=app_id, t=topic: self.subscribed(a, t),
                timeout=timeout,
                what=f"{app_id} subscribed to {topic}:\n{self.process.output()[-3000:]}",
            )

    def publish(
        self, topic: str, data: Any, pubsub: str = "pubsub", **kwargs: Any
    ) -> httpx.Response:
        return self.http.post(f"/v1.0/publish/{pubsub}/{topic}", json=data, **kwargs)

    def consumer_group(self, app_id: str, topic: str) -> str:
        groups = self.http.get("/v1.0/metadata").json()["consumerGroups"]
        (group,) = [g["group"] for g in groups if g["appID"] == app_id and g["topic"] == topic]
        return group


class Stack:
    """Subscriber apps plus one sidecar serving them all; every part stopped at teardown."""

    def __init__(self, redis_url: str, workdir: Path) -> None:
        self.redis_url = redis_url
        self.workdir = workdir
        self.apps: dict[str, Subscriber] = {}
        self.sidecar: Sidecar | None = None

    def app(
        self, app_id: str, subscriptions: list[dict[str, Any]], app_token: str | None = None
    ) -> Subscriber:
        self.apps[app_id] = Subscriber(app_id, subscriptions, self.workdir, app_token)
        return self.apps[app_id]

    def start_sidecar(
        self,
        extra: tuple[str, ...] = FAST_SETTINGS,
        env: dict[str, str] | None = None,
        components: Path | None = None,
    ) -> Sidecar:
        self.launch_sidecar(extra, env, components).wait_ready()
        assert self.sidecar is not None
        return self.sidecar

    def launch_sidecar(
        self,
        extra: tuple[str, ...] = FAST_SETTINGS,
        env: dict[str, str] | None = None,
        components: Path | None = None,
    ) -> Sidecar:
        """Starts the sidecar process without waiting for it (call wait_ready), so several
        processes can start at once on a slow machine. `components`: a component directory
        (default: the product's, unscoped)."""
        self.sidecar = Sidecar(
            self.redis_url, list(self.apps.values()), self.workdir, extra, env, components
        )
        self.sidecar.process.start()
        return self.sidecar

    def stop(self) -> None:
        if self.sidecar is not None:
            self.sidecar.process.stop()
            self.sidecar.http.close()
        for app in self.apps.values():
            app.process.stop()


class StreamInspector:
    """Reads the topic streams and consumer groups directly in Redis."""

    def __init__(self, client: redis.Redis) -> None:
        self.client = client

    def entry_id(self, topic: str, key: str) -> str:
        for entry_id, fields in self.client.xrange(topic):
            if key.encode() in fields.get(b"data", b""):
                return entry_id.decode()
        raise AssertionError(f"no entry for {key} in stream {topic}")

    def pending(self, topic: str, group: str, entry_id: str) -> bool:
        return bool(self.client.xpending_range(topic, group, entry_id, entry_id, 1))

    def wait_acked(self, topic: str, group: str, key: str, timeout: float = 10.0) -> None:
        entry_id = self.entry_id(topic, key)
        wait_until(
            lambda: not self.pending(topic, group, entry_id),
            timeout=timeout,
            what=f"{group} to ack {key} on {topic}",
        )


@pytest.fixture(scope="session")
def redis_client(redis_url: str) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_url)
    yield client
    client.close()


@pytest.fixture(scope="session")
def streams(redis_client: redis.Redis) -> StreamInspector:
    return StreamInspector(redis_client)


@pytest.fixture
def make_stack(redis_url: str, tmp_path: Path) -> Iterator[Callable[..., Stack]]:
    """A stack for one test, stopped when the test ends. make_stack("b") works in a
    directory of its own, so two stacks may run apps of the same id (replicas)."""
    stacks: list[Stack] = []

    def make(name: str = "") -> Stack:
        workdir = tmp_path / name if name else tmp_path
        workdir.mkdir(exist_ok=True)
        stacks.append(Stack(redis_url, workdir))
        return stacks[-1]

    yield make
    for stack in stacks:
        stack.stop()


@pytest.fixture(scope="session")
def shared_stack_builder(
    redis_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Callable[[str], Stack]]:
    """Stacks shared by the tests of one module (built by a module fixture), stopped at the end."""
    stacks: list[Stack] = []

    def make(name: str) -> Stack:
        stacks.append(Stack(redis_url, tmp_path_factory.mktemp(name)))
        return stacks[-1]

    yield make
    for stack in stacks:
        stack.stop()


@pytest.fixture
def unique() -> Callable[[str], str]:
    """unique("orders") -> "orders-3f2a..." so tests never share streams or keys."""
    return lambda name: f"{name}-{uuid.uuid4().hex[:10]}"


@pytest.fixture(scope="session")
def fast_settings() -> tuple[str, ...]:
    return FAST_SETTINGS


@pytest.fixture(scope="session")
def poll() -> Callable[..., Any]:
    return wait_until
