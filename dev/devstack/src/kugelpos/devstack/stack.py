"""The embedded local stack: Redis, a MongoDB wire server, the local Dapr sidecar, the services.

One class serves `make run` (fixed ports, SQLite, secrets kept in .data/) and the tests (free
ports, memory engine, throwaway directory). Everything it starts runs in the background with a
log and a pid record under its base directory, so another process can stop it later.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import sys
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Literal, Self

import yaml

from kugelpos.devstack import health, keys, processes
from kugelpos.devstack.ports import ensure_free, free_ports
from kugelpos.devstack.redis_server import server_argv, server_binary
from kugelpos.registry.paths import repo_root
from kugelpos.registry.services import SERVICES, ServiceSpec

MongoEngine = Literal["memory", "sqlite"]

REDIS = "redis"
MONGO = "mongo"  # the one wire server of a stack without services (commons tests)
SIDECAR = "sidecar"
# The round-robin front of a stack running several replicas of each service (front.py).
FRONT = "front"
INFRA_ORDER = (REDIS, MONGO, SIDECAR)
# One wire server per service (mongoeco fails a transaction when any other write reached the
# same server meanwhile, so services must not share one): component `mongo-<service>`.
MONGO_OF = "mongo-"


def mongo_component(service: str) -> str:
    return f"{MONGO_OF}{service}"


def is_mongo(name: str) -> bool:
    return name == MONGO or name.startswith(MONGO_OF)


def is_infra(name: str) -> bool:
    return (
        name in INFRA_ORDER
        or name == FRONT
        or is_mongo(name)
        or is_replica_sidecar(name)
        or is_mongo_link(name)
    )


# A replica of a service is the component `<service>.<n>` (n = 2, 3, ...) behind a sidecar
# of its own, `sidecar.<service>.<n>`, as a second pod runs with its own daprd.
REPLICA_SEP = "."


def is_replica_sidecar(name: str) -> bool:
    return name.startswith(SIDECAR + REPLICA_SEP)


# A relay between one service process and its MongoDB (`link.<process>`, see
# Stack.mongo_links): killing it drops that process's connections and no other's.
LINK = "link"


def is_mongo_link(name: str) -> bool:
    return name.startswith(LINK + REPLICA_SEP)


def mongo_link(process: str) -> str:
    return f"{LINK}{REPLICA_SEP}{process}"


def front_port_name(service: str) -> str:
    """The key of a service's port on the front in `Stack.port` (not a component)."""
    return f"{FRONT}{REPLICA_SEP}{service}"


# Fixed ports for `make run`; chosen off the usual 6379/27017 so a system Redis or MongoDB on
# the laptop does not collide with the stack.
DEV_PORTS = {REDIS: 6390, MONGO: 27027, SIDECAR: 3500}

STATE_FILE = "stack.json"
SUBSCRIBE_POLL_SECONDS = 60.0
SIDECAR_MODULE = "kugelpos.sidecar"
# `make run` keeps each app's Dapr API token in .data/dapr_api_tokens/<app id> (mode 0600).
DAPR_TOKEN_DIR = "dapr_api_tokens"
DAPR_API_TOKEN_HEADER = "dapr-api-token"
# A database namespace goes in front of every database name (MongoDB allows 63 characters;
# the longest name is then 12 + 1 + len("db_master_data") + 1 + 32 = 60).
DB_NAMESPACE_PATTERN = re.compile(r"[a-z0-9]{1,12}")


def _process_env() -> dict[str, str]:
    """The caller's environment for a child process, with unbuffered logs and bytecode caching.

    Machines that set PYTHONDONTWRITEBYTECODE (CI images often do) would have every service,
    sidecar and wire server compile the workspace's sources on each start: about three times
    the start-up time, paid again at every restart a fault test makes. The caches land in the
    gitignored `__pycache__` folders; site-packages is compiled by `make install`.
    """
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONUNBUFFERED"] = "1"
    return env


class StackError(RuntimeError):
    """A component failed to start or to become healthy; the message holds its log tail."""


@dataclass(frozen=True)
class Replica:
    """One more process of a service, on ports of its own, behind a sidecar of its own, sharing
    the stack's Redis and the service's MongoDB: what a second pod of the service would be."""

    service: str
    name: str  # its component name, e.g. "stock.2" (logs/stock.2.log, kill_component)
    sidecar: str  # its sidecar's component name, e.g. "sidecar.stock.2"
    url: str
    sidecar_url: str


@dataclass(frozen=True)
class _Plan:
    """How to launch one component and how to tell it is ready."""

    name: str
    argv: tuple[str, ...]
    env: Mapping[str, str]
    probe: health.Probe


@dataclass
class Stack:
    """A local stack rooted at base_dir (logs/, pids/, data, stack.json).

    ports: name -> port for every component; None picks free loopback ports (tests). Fixed
    ports are checked before anything starts.
    """

    base_dir: Path
    ports: Mapping[str, int] | None = None
    mongo_engine: MongoEngine = "memory"
    services: Sequence[ServiceSpec] = SERVICES
    include_mongo: bool = True
    include_sidecar: bool = True
    extra_env: Mapping[str, str] = field(default_factory=dict)
    persistent: bool = False
    # Redis keeps its data on disk (append-only file) across restarts; None: as `persistent`.
    # Fault tests want it without the rest of `persistent` (fixed secrets).
    redis_persistence: bool | None = None
    # Extra command-line options of the local sidecar (e.g. `--max-backoff 2`).
    sidecar_options: Sequence[str] = ()
    mongodb_uri: str | None = None  # external MongoDB: nothing is started for it
    # Put in front of every database name (`<namespace>_db_cart_<tenant>`): stacks that share
    # one MongoDB (an external MONGODB_URI) keep their data, and above all their outboxes,
    # apart. None: the plain names (`db_cart_<tenant>`).
    db_namespace: str | None = None
    root: Path | None = None
    startup_timeout: float = 30.0
    stop_grace: float = 5.0
    die_with_parent: bool = False
    # Processes of each service: 2 or more starts the extra ones as replicas (each behind a
    # sidecar of its own, as add_replica does) and a round-robin front (FRONT) whose port per
    # service (`front_url`) spreads connections over them; the services then reach each other
    # through it (BASE_URL_<NAME>), as pods reach each other through a Kubernetes Service.
    replicas_per_service: int = 1
    # Service processes ("cart", "cart.2") whose MongoDB connection goes through a relay of
    # its own, the component `link.<process>`: kill it to cut that one process off its
    # database (the others, replicas of the same service included, keep theirs).
    mongo_links: Sequence[str] = ()

    def __post_init__(self) -> None:
        if self.db_namespace is not None and not DB_NAMESPACE_PATTERN.fullmatch(self.db_namespace):
            raise ValueError(f"db_namespace must match {DB_NAMESPACE_PATTERN.pattern}")
        self.base_dir = Path(self.base_dir).resolve()
        self.root = repo_root() if self.root is None else Path(self.root)
        self._fixed_ports = self.ports is not None
        # The sidecar always gets a port: without one running, services must still point
        # DAPR_HTTP_ENDPOINT somewhere that is surely not another stack's sidecar.
        if self.replicas_per_service < 1:
            raise ValueError("replicas_per_service must be 1 or more")
        if self.replicas_per_service > 1 and not self.include_sidecar:
            raise ValueError("replicas need the sidecar (include_sidecar=True)")
        names = list(dict.fromkeys([*self.component_names, SIDECAR, *self._planned_replicas()]))
        if self.replicas_per_service > 1:
            names += [front_port_name(spec.name) for spec in self.services]
        if self.mongo_links and not self.mongo_names:
            raise ValueError("mongo_links need the stack's own MongoDB wire servers")
        if self.ports is None:
            self._ports = dict(zip(names, free_ports(len(names)), strict=True))
        else:
            missing = [name for name in names if name not in self.ports]
            if missing:
                raise ValueError(f"no port given for {', '.join(missing)}")
            self._ports = {name: int(self.ports[name]) for name in names}
        if self.persistent:
            self.secret_key = keys.stored_secret(self.base_dir / "secret")
            self.pubsub_key = keys.stored_secret(self.base_dir / "pubsub_notify_key")
            self.app_token = keys.stored_secret(self.base_dir / "app_api_token")
        else:
            self.secret_key = keys.new_secret()
            self.pubsub_key = keys.new_secret()
            self.app_token = keys.new_secret()
        # Dapr API tokens, one per app id: an app presents its own to the sidecar, which tells
        # the apps apart by it. Every registered service has one even when this stack does not
        # run it, so a test can act as that service (e.g. publish a sale as the cart would).
        app_ids = dict.fromkeys(spec.dapr_app_id for spec in [*SERVICES, *self.services])
        token_dir = self.base_dir / DAPR_TOKEN_DIR
        self.dapr_tokens: dict[str, str] = {
            app_id: keys.stored_secret(token_dir / app_id) if self.persistent else keys.new_secret()
            for app_id in app_ids
        }
        self._running: dict[str, processes.ManagedProcess] = {}
        self._replicas: dict[str, Replica] = {}
        # Components may be (re)started from several threads at once (a fault test restarting
        # two replicas): stack.json is written by one at a time.
        self._state_lock = threading.Lock()

    @classmethod
    def development(
        cls,
        base_dir: Path,
        *,
        services: Sequence[ServiceSpec] = SERVICES,
        include_sidecar: bool = True,
    ) -> Self:
        """What `make run` starts: fixed ports, SQLite, persistent Redis and secrets."""
        return cls(
            base_dir,
            ports=DEV_PORTS
            | {spec.name: spec.port for spec in services}
            | {mongo_component(spec.name): spec.mongo_port for spec in services},
            mongo_engine="sqlite",
            services=services,
            include_sidecar=include_sidecar,
            persistent=True,
            mongodb_uri=os.environ.get("MONGODB_URI") or None,
        )

    # ---- addresses -------------------------------------------------------------------------

    @property
    def external_mongo(self) -> bool:
        return bool(self.mongodb_uri)

    @property
    def mongo_names(self) -> list[str]:
        """The wire servers this stack runs: one per service, or one for a stack without."""
        if not self.include_mongo or self.external_mongo:
            return []
        if not self.services:
            return [MONGO]
        return [mongo_component(spec.name) for spec in self.services]

    @property
    def component_names(self) -> list[str]:
        """Start order; stop goes in reverse."""
        names = [REDIS, *self.mongo_names]
        names += [mongo_link(process) for process in self.mongo_links]
        if self.include_sidecar:
            names.append(SIDECAR)
        if self.replicas_per_service > 1 and self.services:
            names.append(FRONT)
        names += [spec.name for spec in self.services]
        return names

    def _planned_replicas(self) -> list[str]:
        """The components of the replicas `replicas_per_service` asks for: each replica's
        sidecar, then the replica (`sidecar.cart.2`, `cart.2`)."""
        names = []
        for spec in self.services:
            for number in range(2, self.replicas_per_service + 1):
                replica = f"{spec.name}{REPLICA_SEP}{number}"
                names += [f"{SIDECAR}{REPLICA_SEP}{replica}", replica]
        return names

    def port(self, name: str) -> int:
        return self._ports[name]

    @property
    def redis_url(self) -> str:
        return f"redis://127.0.0.1:{self._ports[REDIS]}/0"

    @property
    def mongo_uri(self) -> str:
        """The MongoDB of a stack without services (or the external one)."""
        if self.mongodb_uri:
            return self.mongodb_uri
        if MONGO not in self._ports:
            raise StackError(
                "this stack runs one MongoDB per service: use mongo_uri_for(service)"
                if self.include_mongo
                else "this stack has no MongoDB (include_mongo=False)"
            )
        return self._wire_uri(MONGO)

    def mongo_uri_for(self, service: str) -> str:
        """The MongoDB a service uses: its own wire server, or the external MONGODB_URI."""
        if self.mongodb_uri:
            return self.mongodb_uri
        name = mongo_component(self._spec(service).name)
        if name not in self._ports:
            raise StackError("this stack has no MongoDB (include_mongo=False)")
        return self._wire_uri(name)

    def db_prefix(self, service: str) -> str:
        """The DB_NAME_PREFIX a service gets: its registered prefix, after the namespace."""
        prefix = self._spec(service).db_prefix
        return f"{self.db_namespace}_{prefix}" if self.db_namespace else prefix

    def db_name(self, service: str, tenant_id: str) -> str:
        """The database a service keeps a tenant's data in ("commons": its shared one)."""
        return f"{self.db_prefix(service)}_{tenant_id}"

    def _wire_uri(self, name: str) -> str:
        return f"mongodb://127.0.0.1:{self._ports[name]}/?directConnection=true"

    @property
    def sidecar_url(self) -> str:
        return f"http://127.0.0.1:{self._ports[SIDECAR]}"

    def url(self, service: str) -> str:
        """Root URL of a service, e.g. http://127.0.0.1:8000 (append /api/v1/... yourself)."""
        return f"http://127.0.0.1:{self._ports[self._spec(service).name]}"

    def base_url(self, service: str) -> str:
        """The BASE_URL_<NAME> value services get: <url>/api/v1 (the front's, with replicas)."""
        return f"{self.front_url(service)}/api/v1"

    def front_url(self, service: str) -> str:
        """Where clients reach a service whichever replica serves: the front's port for it
        when the stack runs replicas (`replicas_per_service`), else the service itself."""
        name = front_port_name(self._spec(service).name)
        if name not in self._ports:
            return self.url(service)
        return f"http://127.0.0.1:{self._ports[name]}"

    def replica_urls(self, service: str) -> list[str]:
        """The root URL of every process of a service: the first one, then its replicas."""
        spec = self._spec(service)
        return [
            self.url(spec.name),
            *(r.url for r in self._replicas.values() if r.service == spec.name),
        ]

    def replicas_of(self, service: str) -> list[Replica]:
        return [r for r in self._replicas.values() if r.service == self._spec(service).name]

    def dapr_token(self, app_id: str) -> str:
        """The Dapr API token of an app (a registered service or one this stack runs)."""
        try:
            return self.dapr_tokens[app_id]
        except KeyError:
            raise KeyError(f"no Dapr API token for app {app_id!r}") from None

    def dapr_headers(self, app_id: str) -> dict[str, str]:
        """Headers to call the sidecar as `app_id` does (its scopes and policies apply)."""
        return {DAPR_API_TOKEN_HEADER: self.dapr_token(app_id)}

    def publisher_of(self, topic: str, pubsub: str = "pubsub") -> str:
        """The app the product's component scopes let publish `topic` on `pubsub` (the first
        one its publishingScopes name), for a test that publishes what that app would."""
        assert self.root is not None
        from kugelpos.sidecar.components import Component
        from kugelpos.sidecar.scopes import TopicScopes

        rules = None
        for path in sorted((self.root / "dapr" / "components").glob("*.yaml")):
            doc = yaml.safe_load(path.read_text())
            if (doc.get("metadata") or {}).get("name") == pubsub:
                items = doc["spec"].get("metadata") or []
                metadata = {m["name"]: str(m["value"]) for m in items if "value" in m}
                rules = TopicScopes.of(Component(pubsub, doc["spec"]["type"], metadata=metadata))
        if rules is None:
            raise KeyError(f"no component {pubsub!r} in dapr/components")
        for app_id in rules.publishing:
            if rules.may_publish(app_id, topic) and app_id in self.dapr_tokens:
                return app_id
        raise KeyError(f"no registered app may publish {topic!r} on {pubsub!r}")

    def address(self, name: str) -> str:
        """The URL or URI a person would use to reach a component."""
        if name == REDIS:
            return self.redis_url
        if is_mongo(name) or is_mongo_link(name):
            return self._wire_uri(name)
        if name == SIDECAR:
            return self.sidecar_url
        if name == FRONT:
            return ", ".join(f"{s.name} {self.front_url(s.name)}" for s in self.services)
        return self.url(name)

    def log_path(self, name: str) -> Path:
        return self.base_dir / "logs" / f"{name}.log"

    def pid_path(self, name: str) -> Path:
        return self.base_dir / "pids" / f"{name}.pid"

    def _spec(self, name: str) -> ServiceSpec:
        for spec in self.services:
            if spec.name == name:
                return spec
        raise KeyError(f"service {name!r} is not part of this stack")

    # ---- environment -----------------------------------------------------------------------

    def service_env(self, spec: ServiceSpec, sidecar: str = SIDECAR) -> dict[str, str]:
        """The settings a service process gets; extra_env wins over everything else.

        `sidecar`: the component whose Dapr API it uses (a replica has its own)."""
        sidecar_url = f"http://127.0.0.1:{self._ports[sidecar]}"
        env = _process_env()
        env.update(
            ENVIRONMENT="development",
            SERVICE_NAME=spec.name,
            LOG_LEVEL="INFO",
            SECRET_KEY=self.secret_key,
            PUBSUB_NOTIFY_API_KEY=self.pubsub_key,
            # Subscriber routes accept only callers presenting it: the sidecar (below).
            APP_API_TOKEN=self.app_token,
            # The other way: the sidecar accepts only calls presenting the app's own token.
            DAPR_API_TOKEN=self.dapr_token(spec.dapr_app_id),
            MONGODB_URI=self.mongo_uri_for(spec.name),
            DB_NAME_PREFIX=self.db_prefix(spec.name),
            REDIS_URL=self.redis_url,
            DAPR_HTTP_ENDPOINT=sidecar_url,
            DAPR_HTTP_PORT=str(self._ports[sidecar]),
            BASE_URL_DAPR=f"{sidecar_url}/v1.0",
        )
        for other in self.services:
            env[other.base_url_env] = self.base_url(other.name)
        env.update(self.extra_env)
        return env

    def _infra_env(self) -> dict[str, str]:
        return _process_env()

    # ---- plans -----------------------------------------------------------------------------

    def _plan(self, name: str) -> _Plan:
        port = self._ports[name]
        if name == REDIS:
            data_dir = self.base_dir / "redis"
            data_dir.mkdir(parents=True, exist_ok=True)
            keep = self.persistent if self.redis_persistence is None else self.redis_persistence
            argv = server_argv(server_binary(), port, data_dir, persistent=keep)
            return _Plan(name, tuple(argv), self._infra_env(), health.redis_probe(self.redis_url))
        if is_mongo(name):
            argv = [sys.executable, "-m", "kugelpos.embedded_mongo", "--port", str(port)]
            argv += ["--engine", self.mongo_engine]
            if self.mongo_engine == "sqlite":
                argv += ["--path", str(self.base_dir / "mongo" / f"{name}.sqlite3")]
            probe = health.mongo_probe(self._wire_uri(name))
            return _Plan(name, tuple(argv), self._infra_env(), probe)
        if name == SIDECAR:
            apps = [(spec, self._ports[spec.name]) for spec in self.services]
            return self._sidecar_plan(name, apps)
        if name == FRONT:
            return self._front_plan()
        if is_mongo_link(name):
            process = name.removeprefix(LINK + REPLICA_SEP)
            wire = self._ports[mongo_component(process.split(REPLICA_SEP)[0])]
            argv = [sys.executable, "-m", "kugelpos.devstack.front"]
            argv += ["--route", f"127.0.0.1:{self._ports[name]}=127.0.0.1:{wire}"]
            return _Plan(
                name, tuple(argv), self._infra_env(), health.tcp_probe([self._ports[name]])
            )
        replica = self._replicas.get(name)
        if replica is not None:
            return self._service_plan(name, self._spec(replica.service), replica.sidecar)
        for replica in self._replicas.values():
            if replica.sidecar == name:
                spec = self._spec(replica.service)
                return self._sidecar_plan(name, [(spec, self._ports[replica.name])])
        return self._service_plan(name, self._spec(name), SIDECAR)

    def _front_plan(self) -> _Plan:
        argv = [sys.executable, "-m", "kugelpos.devstack.front"]
        for spec in self.services:
            backends = [self._ports[spec.name]]
            backends += [
                self._ports[n]
                for n in self._planned_replicas()
                if not is_replica_sidecar(n) and n.split(REPLICA_SEP)[0] == spec.name
            ]
            listen = self._ports[front_port_name(spec.name)]
            route = ",".join(f"127.0.0.1:{port}" for port in backends)
            argv += ["--route", f"127.0.0.1:{listen}={route}"]
        ports = [self._ports[front_port_name(spec.name)] for spec in self.services]
        return _Plan(FRONT, tuple(argv), self._infra_env(), health.tcp_probe(ports))

    def _sidecar_plan(self, name: str, apps: Sequence[tuple[ServiceSpec, int]]) -> _Plan:
        if importlib.util.find_spec(f"{SIDECAR_MODULE}.__main__") is None:
            raise StackError(
                f"the local Dapr sidecar ({SIDECAR_MODULE}) has no __main__ yet; "
                "start the stack with include_sidecar=False"
            )
        assert self.root is not None
        port = self._ports[name]
        argv = [sys.executable, "-m", SIDECAR_MODULE, "--port", str(port)]
        argv += ["--redis-url", self.redis_url]
        argv += ["--components-path", str(self.root / "dapr" / "components")]
        # The access-control policies daprd reads from the same file.
        argv += ["--config", str(self.root / "dapr" / "config.yaml")]
        # Its own id: each sidecar is its own consumer in the groups it shares with others.
        argv += ["--sidecar-id", "kugelpos-sidecar" if name == SIDECAR else f"kugelpos-{name}"]
        for spec, app_port in apps:
            argv += ["--app", f"{spec.dapr_app_id}=http://127.0.0.1:{app_port}"]
        # The services declare their subscriptions once (daprd reads them once, at start): a
        # look a minute is enough to follow a restart, where every 5 s cost each app a request.
        argv += ["--subscribe-poll-interval", str(SUBSCRIBE_POLL_SECONDS)]
        argv += list(self.sidecar_options)
        probe = health.http_probe(f"http://127.0.0.1:{port}/v1.0/healthz", 204)
        env = self._infra_env() | {"APP_API_TOKEN": self.app_token}
        # Only the stack's own tokens, whatever the caller's environment holds.
        env.pop("DAPR_API_TOKEN", None)
        env.pop("DAPR_API_TOKENS", None)
        if name == SIDECAR:
            # One sidecar for every app: a token per app, so it knows which one calls.
            env["DAPR_API_TOKENS"] = json.dumps(self.dapr_tokens)
        else:
            # A replica's own sidecar serves its one app, as a daprd of that pod would.
            (spec, _), *_ = apps
            env["DAPR_API_TOKEN"] = self.dapr_token(spec.dapr_app_id)
        return _Plan(name, tuple(argv), env, probe)

    def _service_plan(self, name: str, spec: ServiceSpec, sidecar: str) -> _Plan:
        port = self._ports[name]
        # uvicorn without its tenth-of-a-second tick (kugelpos.devstack.serve): an idle stack.
        argv = [sys.executable, "-m", "kugelpos.devstack.serve", spec.asgi, "--host", "127.0.0.1"]
        argv += ["--port", str(port)]
        probe = health.service_health_probe(f"http://127.0.0.1:{port}")
        env = self.service_env(spec, sidecar)
        if name in self.mongo_links:
            env["MONGODB_URI"] = self._wire_uri(mongo_link(name))
        return _Plan(name, tuple(argv), env, probe)

    # ---- lifecycle -------------------------------------------------------------------------

    def running(self, name: str) -> bool:
        process = self._running.get(name)
        return process is not None and process.running()

    def start(self, names: Iterable[str] | None = None) -> Self:
        """Start the given components (default: all) that are not running yet, in stack order.

        Infrastructure starts one at a time, each waited for; services start together and are
        then waited for one by one. On failure everything started by this stack is stopped.
        """
        wanted = set(self.component_names if names is None else names)
        unknown = wanted - set(self.component_names)
        if unknown:
            raise KeyError(f"not components of this stack: {', '.join(sorted(unknown))}")
        todo = [n for n in self.component_names if n in wanted and not self.running(n)]
        if self._fixed_ports:
            ensure_free({name: self._ports[name] for name in todo})
        self.base_dir.mkdir(parents=True, exist_ok=True)
        needs_mongo = any(not is_infra(n) for n in todo)
        try:
            if self.external_mongo and needs_mongo:
                # Nothing to start, but fail early and clearly if the URI does not answer.
                self._wait("mongo (MONGODB_URI)", health.mongo_probe(self.mongo_uri), None)
            # The wire servers together (they are independent), then Redis, then the sidecar.
            infra = [n for n in todo if is_infra(n)]
            wire = [self._launch(self._plan(n)) for n in infra if is_mongo(n)]
            for name, probe in wire:
                self._wait(name, probe, self._running[name])
            for name in (n for n in infra if not is_mongo(n)):
                self.start_component(name)
            launched = [self._launch(self._plan(n)) for n in todo if not is_infra(n)]
            if names is None:
                launched += self._launch_planned_replicas()
            for name, probe in launched:
                self._wait(name, probe, self._running[name])
        except BaseException:
            self.stop()
            raise
        self._write_state()
        return self

    def _launch_planned_replicas(self) -> list[tuple[str, health.Probe]]:
        """Launches (without waiting) the replicas `replicas_per_service` asks for that are
        not running, each sidecar with its replica."""
        launched = []
        planned = self._planned_replicas()
        for sidecar, name in zip(planned[::2], planned[1::2], strict=True):
            service = name.split(REPLICA_SEP)[0]
            self._replicas.setdefault(
                name,
                Replica(
                    service=service,
                    name=name,
                    sidecar=sidecar,
                    url=f"http://127.0.0.1:{self._ports[name]}",
                    sidecar_url=f"http://127.0.0.1:{self._ports[sidecar]}",
                ),
            )
            launched += [
                self._launch(self._plan(n)) for n in (sidecar, name) if not self.running(n)
            ]
        return launched

    def add_replica(self, service: str) -> Replica:
        """Start one more process of a running service, behind a sidecar of its own on other
        ports (same Redis, same MongoDB), and wait until both are ready. Stopped with the
        stack; `kill_component(replica.name)` / `start_component(replica.name)` as for any
        component. For tests of what several replicas share (leases, fan-out, cooldowns)."""
        spec = self._spec(service)
        if not self.include_sidecar:
            raise StackError("a replica needs the sidecar (include_sidecar=True)")
        number = 2 + sum(1 for r in self._replicas.values() if r.service == spec.name)
        name = f"{spec.name}{REPLICA_SEP}{number}"
        sidecar = f"{SIDECAR}{REPLICA_SEP}{name}"
        self._ports[name], self._ports[sidecar] = free_ports(2)
        replica = Replica(
            service=spec.name,
            name=name,
            sidecar=sidecar,
            url=f"http://127.0.0.1:{self._ports[name]}",
            sidecar_url=f"http://127.0.0.1:{self._ports[sidecar]}",
        )
        self._replicas[name] = replica
        try:
            # Both at once: the sidecar finds its app whenever it answers.
            launched = [self._launch(self._plan(n)) for n in (sidecar, name)]
            for component, probe in launched:
                self._wait(component, probe, self._running[component])
        except BaseException:
            for component in (name, sidecar):
                self.stop_component(component)
            raise
        self._write_state()
        return replica

    def pids(self) -> dict[str, int]:
        """The pid of each running component this stack started, in start order (replicas
        last): what the bench reads CPU time of."""
        return {
            name: process.record.pid for name, process in self._running.items() if process.running()
        }

    @property
    def replicas(self) -> list[Replica]:
        return list(self._replicas.values())

    def start_component(self, name: str) -> None:
        """(Re)start one component on its port and wait until it is ready."""
        if self.running(name):
            return
        if is_mongo(name) and self.external_mongo:
            raise StackError("MongoDB is external (MONGODB_URI); nothing to start")
        _, probe = self._launch(self._plan(name))
        self._wait(name, probe, self._running[name])
        self._write_state()

    def stop_component(self, name: str) -> None:
        process = self._running.pop(name, None)
        if process is None:
            record = processes.ProcessRecord.load(self.pid_path(name))
            if record is None:
                return
            process = processes.ManagedProcess(record, self.log_path(name), self.pid_path(name))
        processes.terminate(process, self.stop_grace)

    def data_paths(self, name: str) -> list[Path]:
        """Where a component keeps data between runs: Redis's directory, a SQLite wire
        server's files (none for the memory engine, a service or the sidecar)."""
        if name == REDIS:
            return [self.base_dir / "redis"]
        if is_mongo(name) and self.mongo_engine == "sqlite" and not self.external_mongo:
            path = self.base_dir / "mongo" / f"{name}.sqlite3"
            # SQLite's journal files go with the database, or a "fresh" one replays them.
            return [
                path.with_name(path.name + suffix) for suffix in ("", "-wal", "-shm", "-journal")
            ]
        return []

    def wipe_data(self, name: str) -> None:
        """Forget a stopped component's data, so its next start begins empty (a disk lost,
        a cache server restarted without persistence)."""
        if self.running(name):
            raise StackError(f"{name} is running: stop or kill it before wiping its data")
        for path in self.data_paths(name):
            if path.is_dir():
                shutil.rmtree(path)
            else:
                path.unlink(missing_ok=True)

    def kill_component(self, name: str) -> bool:
        """SIGKILL one component (fault tests): no graceful shutdown, as in a crash."""
        process = self._running.pop(name, None)
        if process is None:
            return False
        return processes.kill(process)

    def stop(self) -> list[str]:
        """Stop everything this stack started, newest first, including what pid files name.

        Returns the names that were actually signalled.
        """
        stopped = stop_recorded(self.base_dir, self._running, self.stop_grace)
        self._running.clear()
        return stopped

    def _launch(self, plan: _Plan) -> tuple[str, health.Probe]:
        log_path = self.log_path(plan.name)
        log_path.parent.mkdir(parents=True, exist_ok=True)
        with log_path.open("ab") as log:
            log.write(f"\n==== starting {plan.name}: {' '.join(plan.argv)}\n".encode())
        self._running[plan.name] = processes.spawn(
            plan.name,
            plan.argv,
            env=plan.env,
            log_path=log_path,
            pid_path=self.pid_path(plan.name),
            cwd=self.root,
            die_with_parent=self.die_with_parent,
        )
        return plan.name, plan.probe

    def _wait(
        self, name: str, probe: health.Probe, process: processes.ManagedProcess | None
    ) -> None:
        deadline = time.monotonic() + self.startup_timeout
        reason: str | None = "not probed yet"
        delay = 0.05
        while time.monotonic() < deadline:
            if process is not None and not process.running():
                raise StackError(
                    f"{name} exited with code {process.exit_code()} during startup; "
                    f"last lines of {process.log_path}:\n{processes.tail(process.log_path)}"
                )
            reason = probe()
            if reason is None:
                return
            time.sleep(delay)
            delay = min(delay * 2, 0.5)
        log_hint = ""
        if process is not None:
            log_hint = f"; last lines of {process.log_path}:\n{processes.tail(process.log_path)}"
        raise StackError(f"{name} not ready after {self.startup_timeout:.0f}s ({reason}){log_hint}")

    def _write_state(self) -> None:
        with self._state_lock:
            self._write_state_locked()

    def _write_state_locked(self) -> None:
        state = {
            "base_dir": str(self.base_dir),
            "ports": {
                n: self._ports[n]
                for n in [*self.component_names, *self._replica_components()]
                if n in self._ports
            },
            # Where each service is reached through the front (not components: `make status`
            # lists the components of "ports").
            "fronts": {
                s.name: self.front_url(s.name)
                for s in self.services
                if front_port_name(s.name) in self._ports
            },
            "redis_url": self.redis_url,
            "mongo_uris": {spec.name: self.mongo_uri_for(spec.name) for spec in self.services}
            if self.include_mongo or self.external_mongo
            else {},
            "db_prefixes": {spec.name: self.db_prefix(spec.name) for spec in self.services},
            "sidecar_url": self.sidecar_url if self.include_sidecar else None,
            "services": {spec.name: self.url(spec.name) for spec in self.services},
            "urls": {name: self.address(name) for name in self.component_names},
        }
        (self.base_dir / STATE_FILE).write_text(json.dumps(state, indent=2))

    def _replica_components(self) -> list[str]:
        return [n for r in self._replicas.values() for n in (r.sidecar, r.name)]

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


# ---- working on a stack from another process (make stop, make status) -------------------------


@dataclass(frozen=True)
class ComponentStatus:
    name: str
    pid: int | None
    alive: bool
    port: int | None
    log_path: Path


def _stop_rank(name: str) -> int:
    # Services first, then the sidecar, MongoDB and Redis, mirroring the start order.
    if is_mongo(name):
        return INFRA_ORDER.index(MONGO)
    if is_replica_sidecar(name):
        return INFRA_ORDER.index(SIDECAR)
    return INFRA_ORDER.index(name) if name in INFRA_ORDER else len(INFRA_ORDER)


def stop_recorded(
    base_dir: Path,
    owned: Mapping[str, processes.ManagedProcess] | None = None,
    grace: float = 5.0,
) -> list[str]:
    """Stop every process with a pid file under base_dir (and those in `owned`)."""
    pid_dir = Path(base_dir) / "pids"
    found: dict[str, processes.ManagedProcess] = dict(owned or {})
    for pid_file in sorted(pid_dir.glob("*.pid")) if pid_dir.is_dir() else []:
        name = pid_file.stem
        if name in found:
            continue
        record = processes.ProcessRecord.load(pid_file)
        if record is None:
            pid_file.unlink(missing_ok=True)
            continue
        found[name] = processes.ManagedProcess(
            record, Path(base_dir) / "logs" / f"{name}.log", pid_file
        )
    stopped: list[str] = []
    # Services go down together (they do not depend on each other), then the infrastructure
    # one by one, so a service never loses Redis or MongoDB while it is still draining.
    for rank in sorted({_stop_rank(name) for name in found}, reverse=True):
        batch = [name for name in sorted(found) if _stop_rank(name) == rank]
        with ThreadPoolExecutor(max_workers=max(len(batch), 1)) as pool:
            results = pool.map(lambda n: (n, processes.terminate(found[n], grace)), batch)
            stopped += [name for name, signalled in results if signalled]
    return stopped


def recorded_status(base_dir: Path) -> list[ComponentStatus]:
    """What the pid files and stack.json under base_dir say, checked against /proc."""
    base_dir = Path(base_dir)
    try:
        state = json.loads((base_dir / STATE_FILE).read_text())
    except (OSError, ValueError):
        state = {}
    port_of: dict[str, int] = state.get("ports", {})
    names = list(port_of)
    pid_dir = base_dir / "pids"
    if pid_dir.is_dir():
        names += [p.stem for p in sorted(pid_dir.glob("*.pid")) if p.stem not in port_of]
    result = []
    for name in names:
        record = processes.ProcessRecord.load(pid_dir / f"{name}.pid")
        result.append(
            ComponentStatus(
                name=name,
                pid=None if record is None else record.pid,
                alive=record is not None and processes.is_alive(record),
                port=port_of.get(name),
                log_path=base_dir / "logs" / f"{name}.log",
            )
        )
    return result
