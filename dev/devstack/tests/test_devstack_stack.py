import json
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
import redis
from pymongo import MongoClient
from pymongo.errors import PyMongoError

from kugelpos.devstack.ports import PortInUseError, free_ports
from kugelpos.devstack.processes import ProcessRecord, is_alive
from kugelpos.devstack.stack import Stack, StackError, recorded_status
from kugelpos.registry.services import ServiceSpec

# Every test here starts processes of a stack itself (not through the plugin's fixtures).
pytestmark = pytest.mark.needs_stack

HERE = Path(__file__).parent
ECHO = ServiceSpec(name="echo", asgi="devstack_echo_app:app", port=0, db_prefix="db_echo")
ECHO_TWO = ServiceSpec(name="echo-two", asgi="devstack_echo_app:app", port=0, db_prefix="db_e2")


def _infra(tmp_path: Path, **options) -> Stack:
    return Stack(tmp_path, services=(), include_sidecar=False, die_with_parent=True, **options)


def _echo_stack(tmp_path: Path, *specs: ServiceSpec, **env: str) -> Stack:
    return Stack(
        tmp_path,
        services=specs or (ECHO,),
        include_sidecar=False,
        die_with_parent=True,
        startup_timeout=30,
        extra_env={"PYTHONPATH": str(HERE), **env},
    )


def test_redis_and_mongo_start_serve_and_stop(tmp_path):
    with _infra(tmp_path) as stack:
        client = redis.Redis.from_url(stack.redis_url)
        assert client.ping()
        client.close()
        mongo = MongoClient(stack.mongo_uri)
        mongo.db_account_t1.users.insert_one({"username": "a"})
        assert mongo.db_account_t1.users.count_documents({}) == 1
        assert "db_account_t1" in mongo.list_database_names()
        mongo.close()
        assert (tmp_path / "logs" / "redis.log").exists()
        assert (tmp_path / "pids" / "mongo.pid").exists()
        pids = [ProcessRecord.load(tmp_path / "pids" / f"{n}.pid") for n in ("redis", "mongo")]
        # What the bench reads CPU time of: each running component's pid, as its pid file says.
        assert stack.pids() == {record.name: record.pid for record in pids}
    assert not any(is_alive(record) for record in pids)
    assert stack.pids() == {}
    assert not list((tmp_path / "pids").glob("*.pid"))


def test_stop_and_restart_a_component_on_the_same_port(tmp_path):
    with _infra(tmp_path, include_mongo=False) as stack:
        url = stack.redis_url
        stack.stop_component("redis")
        assert not stack.running("redis")
        with pytest.raises(redis.ConnectionError):
            redis.Redis.from_url(url, socket_connect_timeout=1).ping()
        stack.start_component("redis")
        assert stack.redis_url == url
        assert redis.Redis.from_url(url).ping()


def test_stop_from_another_process_via_pid_files(tmp_path):
    stack = _infra(tmp_path).start()
    records = [ProcessRecord.load(path) for path in (tmp_path / "pids").glob("*.pid")]
    assert len(records) == 2
    status = subprocess.run(
        [sys.executable, "-m", "kugelpos.devstack", "--data-dir", str(tmp_path), "status"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "redis" in status.stdout and "running" in status.stdout
    stopped = subprocess.run(
        [sys.executable, "-m", "kugelpos.devstack", "--data-dir", str(tmp_path), "stop"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "mongo" in stopped.stdout and "redis" in stopped.stdout
    # Our Popen handles still need reaping; after that nothing of ours is left.
    stack.stop()
    assert not any(is_alive(record) for record in records)
    assert all(not row.alive for row in recorded_status(tmp_path))


def test_fixed_ports_in_use_fail_before_anything_starts(tmp_path):
    with _infra(tmp_path, include_mongo=False) as running:
        ports = {"redis": running.port("redis"), "mongo": free_ports(1)[0], "sidecar": 1}
        clash = Stack(
            tmp_path / "second", ports=ports, services=(), include_sidecar=False, persistent=False
        )
        with pytest.raises(PortInUseError, match="redis on"):
            clash.start()
        assert not (tmp_path / "second" / "pids").exists()


def test_persistent_secrets_survive_a_new_stack_object(tmp_path):
    first = _infra(tmp_path, persistent=True)
    second = _infra(tmp_path, persistent=True)
    assert first.secret_key == second.secret_key
    assert len(first.secret_key) == 64
    assert first.pubsub_key == second.pubsub_key != first.secret_key
    assert (tmp_path / "secret").stat().st_mode & 0o777 == 0o600
    assert _infra(tmp_path / "other").secret_key != first.secret_key
    # A Dapr API token per registered app, kept too, each its own.
    assert first.dapr_tokens == second.dapr_tokens
    assert len(set(first.dapr_tokens.values())) == len(first.dapr_tokens) >= 7
    assert (tmp_path / "dapr_api_tokens" / "cart").stat().st_mode & 0o777 == 0o600


def test_each_app_gets_its_own_dapr_api_token_and_the_sidecar_wants_it(tmp_path):
    stack = Stack(
        tmp_path,
        services=(ECHO,),
        die_with_parent=True,
        startup_timeout=60,
        extra_env={"PYTHONPATH": str(HERE)},
    )
    with stack:
        env = httpx.get(f"{stack.url('echo')}/env").json()
        assert env["DAPR_API_TOKEN"] == stack.dapr_token("echo") != stack.dapr_token("cart")
        assert env["APP_API_TOKEN"] == stack.app_token != env["DAPR_API_TOKEN"]
        metadata = f"{stack.sidecar_url}/v1.0/metadata"
        refused = httpx.get(metadata)
        assert refused.status_code == 401 and refused.text == "invalid api token\n"
        assert httpx.get(metadata, headers={"dapr-api-token": "x" * 64}).status_code == 401
        assert httpx.get(metadata, headers=stack.dapr_headers("echo")).status_code == 200
        # A test may act as any registered service, though this stack does not run it.
        assert httpx.get(metadata, headers=stack.dapr_headers("cart")).status_code == 200
        assert stack.publisher_of("tranlog_report") == "cart"


def test_sqlite_engine_keeps_data_across_restarts(tmp_path):
    stack = _infra(tmp_path, mongo_engine="sqlite")
    with stack.start():
        with MongoClient(stack.mongo_uri) as mongo:
            mongo.db_stock_t.items.insert_one({"item_code": "A", "qty": 3})
        stack.stop_component("mongo")
        stack.start_component("mongo")
        with MongoClient(stack.mongo_uri) as mongo:
            assert mongo.db_stock_t.items.find_one({"item_code": "A"})["qty"] == 3
    assert (tmp_path / "mongo" / "mongo.sqlite3").exists()


def test_killed_components_keep_their_data_until_wiped(tmp_path):
    # What the fault tests rely on: a SIGKILLed Redis (persistence on) and SQLite wire server
    # come back with what they acknowledged; wipe_data makes the next start empty.
    stack = _infra(tmp_path, mongo_engine="sqlite", redis_persistence=True)
    with stack.start():
        client = redis.Redis.from_url(stack.redis_url)
        client.set("cart", "kept")
        client.close()
        with MongoClient(stack.mongo_uri) as mongo:
            mongo.db_stock_t.items.insert_one({"item_code": "A"})
        for name in ("redis", "mongo"):
            assert stack.kill_component(name)
            stack.start_component(name)
        client = redis.Redis.from_url(stack.redis_url)
        assert client.get("cart") == b"kept"
        client.close()
        with MongoClient(stack.mongo_uri) as mongo:
            assert mongo.db_stock_t.items.count_documents({}) == 1
        with pytest.raises(StackError):
            stack.wipe_data("redis")  # running: refused, nothing lost
        for name in ("redis", "mongo"):
            stack.kill_component(name)
            stack.wipe_data(name)
            stack.start_component(name)
        client = redis.Redis.from_url(stack.redis_url)
        assert client.get("cart") is None
        client.close()
        with MongoClient(stack.mongo_uri) as mongo:
            assert mongo.db_stock_t.items.count_documents({}) == 0


def test_services_get_their_settings_and_each_others_urls(tmp_path):
    with _echo_stack(tmp_path, ECHO, ECHO_TWO, TOKEN_EXPIRE_MINUTES="5") as stack:
        env = httpx.get(f"{stack.url('echo')}/env").json()
        assert env["ENVIRONMENT"] == "development"
        assert env["SECRET_KEY"] == stack.secret_key and len(stack.secret_key) == 64
        assert env["PUBSUB_NOTIFY_API_KEY"] == stack.pubsub_key
        assert env["APP_API_TOKEN"] == stack.app_token and len(stack.app_token) == 64
        assert env["MONGODB_URI"] == stack.mongo_uri_for("echo")
        assert env["DB_NAME_PREFIX"] == stack.db_prefix("echo") == "db_echo"  # no namespace
        assert env["REDIS_URL"] == stack.redis_url
        assert env["DAPR_HTTP_ENDPOINT"] == stack.sidecar_url
        assert env["SERVICE_NAME"] == "echo"
        assert env["TOKEN_EXPIRE_MINUTES"] == "5"
        assert env["BASE_URL_ECHO"] == f"{stack.url('echo')}/api/v1"
        assert env["BASE_URL_ECHO_TWO"] == stack.base_url("echo-two")
        two = httpx.get(f"{stack.url('echo-two')}/env").json()
        assert two["SERVICE_NAME"] == "echo-two"
        # One wire server per service: a write of one never conflicts with the other's.
        assert two["MONGODB_URI"] == stack.mongo_uri_for("echo-two") != env["MONGODB_URI"]
        with MongoClient(two["MONGODB_URI"]) as mongo:
            assert mongo.admin.command("ping")["ok"] == 1
        assert two["SECRET_KEY"] == stack.secret_key


def test_stacks_sharing_one_external_mongodb_keep_apart_by_namespace(tmp_path, mongo_uri):
    # The plugin's wire server stands in for the MongoDB of MONGODB_URI.
    stacks = [
        Stack(
            tmp_path / namespace,
            services=(ECHO,),
            include_sidecar=False,
            die_with_parent=True,
            mongodb_uri=mongo_uri,
            db_namespace=namespace,
            extra_env={"PYTHONPATH": str(HERE)},
        )
        for namespace in ("ta", "tb")
    ]
    with stacks[0], stacks[1]:
        assert stacks[0].component_names == ["redis", "echo"]  # no wire server started
        seen = [httpx.get(f"{stack.url('echo')}/env").json() for stack in stacks]
        assert seen[0]["MONGODB_URI"] == seen[1]["MONGODB_URI"] == mongo_uri
        assert [env["DB_NAME_PREFIX"] for env in seen] == ["ta_db_echo", "tb_db_echo"]
        assert stacks[0].db_name("echo", "T1") == "ta_db_echo_T1"
        assert stacks[1].db_name("echo", "commons") == "tb_db_echo_commons"
        state = json.loads((tmp_path / "ta" / "stack.json").read_text())
        assert state["db_prefixes"] == {"echo": "ta_db_echo"}
        assert state["mongo_uris"] == {"echo": mongo_uri}
    for bad in ("", "Upper", "has_underscore", "x" * 13):
        with pytest.raises(ValueError, match="db_namespace"):
            Stack(tmp_path / "bad", services=(ECHO,), db_namespace=bad)


def test_a_crashing_service_fails_start_with_its_log_and_stops_the_rest(tmp_path):
    stack = _echo_stack(tmp_path, ECHO_CRASH="1")
    with pytest.raises(StackError, match="echo app told to crash"):
        stack.start()
    assert not any(stack.running(name) for name in stack.component_names)
    assert not list((tmp_path / "pids").glob("*.pid"))


def test_an_unhealthy_service_times_out(tmp_path):
    stack = _echo_stack(tmp_path, ECHO_UNHEALTHY="1")
    stack.start(["redis", "mongo-echo"])
    stack.startup_timeout = 2  # only the service is meant to time out
    with pytest.raises(StackError, match="status 'unhealthy'"):
        stack.start()
    assert not any(stack.running(name) for name in stack.component_names)


def test_plugin_fixtures_give_working_redis_and_mongo(redis_url, mongo_uri):
    client = redis.Redis.from_url(redis_url)
    assert client.ping()
    client.close()
    with MongoClient(mongo_uri) as mongo:
        assert mongo.admin.command("ping")["ok"] == 1


def test_a_replica_runs_behind_its_own_sidecar_and_stops_with_the_stack(tmp_path):
    stack = Stack(
        tmp_path,
        services=(ECHO,),
        die_with_parent=True,
        startup_timeout=60,
        extra_env={"PYTHONPATH": str(HERE)},
    )
    with stack:
        replica = stack.add_replica("echo")
        assert (replica.name, replica.sidecar) == ("echo.2", "sidecar.echo.2")
        env = httpx.get(f"{replica.url}/env").json()
        first = httpx.get(f"{stack.url('echo')}/env").json()
        # Its own sidecar, the same Redis, MongoDB and secrets as the first process.
        assert env["DAPR_HTTP_ENDPOINT"] == replica.sidecar_url != stack.sidecar_url
        assert first["DAPR_HTTP_ENDPOINT"] == stack.sidecar_url
        assert env["MONGODB_URI"] == first["MONGODB_URI"]
        assert env["REDIS_URL"] == stack.redis_url and env["SECRET_KEY"] == stack.secret_key
        as_echo = stack.dapr_headers("echo")
        metadata = httpx.get(f"{replica.sidecar_url}/v1.0/metadata", headers=as_echo).json()
        assert metadata["apps"][0]["id"] == "echo" and metadata["apps"][0]["url"] == replica.url
        main = httpx.get(f"{stack.sidecar_url}/v1.0/metadata", headers=as_echo).json()
        assert metadata["id"] != main["id"]
        alive = {status.name for status in recorded_status(tmp_path) if status.alive}
        assert {"echo.2", "sidecar.echo.2"} <= alive
        assert stack.kill_component(replica.name)
        stack.start_component(replica.name)
        assert httpx.get(f"{replica.url}/env").json()["DAPR_HTTP_ENDPOINT"] == replica.sidecar_url
    assert not list((tmp_path / "pids").glob("*.pid"))


def _served_by(url: str, calls: int) -> list[str]:
    """GET /env `calls` times, each on a new connection; the sidecar each answer names (each
    replica has its own)."""
    return [httpx.get(f"{url}/env").json()["DAPR_HTTP_ENDPOINT"] for _ in range(calls)]


def env_of(url: str) -> dict[str, str]:
    return httpx.get(f"{url}/env").json()


def _pings(uri: str) -> bool:
    client = MongoClient(uri, serverSelectionTimeoutMS=1000)
    try:
        return client.admin.command("ping")["ok"] == 1
    except PyMongoError:
        return False
    finally:
        client.close()


def test_replicas_per_service_start_behind_a_round_robin_front(tmp_path):
    stack = Stack(
        tmp_path,
        services=(ECHO, ECHO_TWO),
        replicas_per_service=2,
        mongo_links=("echo.2",),
        die_with_parent=True,
        startup_timeout=60,
        extra_env={"PYTHONPATH": str(HERE)},
    )
    with stack:
        for service in ("echo", "echo-two"):
            (replica,) = stack.replicas_of(service)
            assert replica.name == f"{service}.2" and stack.running(replica.name)
            assert stack.replica_urls(service) == [stack.url(service), replica.url]
        sidecars = {stack.sidecar_url, stack.replicas_of("echo")[0].sidecar_url}
        front = stack.front_url("echo")
        assert front not in stack.replica_urls("echo")
        # The services reach each other through the front.
        env = httpx.get(f"{stack.url('echo-two')}/env").json()
        assert env["BASE_URL_ECHO"] == f"{front}/api/v1"
        # Connections alternate between the replicas.
        assert sorted(_served_by(front, 4)) == sorted([*sidecars, *sidecars])
        # One replica dies: every connection reaches the other; restarted, it takes its turn.
        assert stack.kill_component("echo")
        assert set(_served_by(front, 4)) == {stack.replicas_of("echo")[0].sidecar_url}
        stack.start_component("echo")
        # (The front passes over a replica that refused a connection for a second.)
        deadline = time.monotonic() + 10
        while set(_served_by(front, 4)) != sidecars:
            assert time.monotonic() < deadline, "the restarted replica never took a connection"
            time.sleep(0.2)
        # A keep-alive client stays on its replica; the front closes that connection when
        # the replica dies, so the client's next request goes out on a new one, to the other.
        with httpx.Client(base_url=front) as client:
            first = client.get("/env").json()["DAPR_HTTP_ENDPOINT"]
            assert [client.get("/env").json()["DAPR_HTTP_ENDPOINT"] for _ in "ab"] == [first] * 2
            victim = "echo" if first == stack.sidecar_url else "echo.2"
            assert stack.kill_component(victim)
            assert client.get("/env").json()["DAPR_HTTP_ENDPOINT"] in sidecars - {first}
        stack.start_component(victim)
        state = json.loads((tmp_path / "stack.json").read_text())
        assert state["fronts"] == {"echo": front, "echo-two": stack.front_url("echo-two")}
        listed = {status.name: status.alive for status in recorded_status(tmp_path)}
        assert listed["front"] and listed["echo.2"] and listed["link.echo.2"], listed
        # echo.2 reaches its MongoDB through a link of its own: killed, only echo.2 is cut off.
        linked = httpx.get(f"{stack.replicas_of('echo')[0].url}/env").json()["MONGODB_URI"]
        assert linked != stack.mongo_uri_for("echo") == env_of(stack.url("echo"))["MONGODB_URI"]
        assert _pings(linked) and _pings(stack.mongo_uri_for("echo"))
        assert stack.kill_component("link.echo.2")
        assert not _pings(linked) and _pings(stack.mongo_uri_for("echo"))
        stack.start_component("link.echo.2")
        assert _pings(linked)
    assert not list((tmp_path / "pids").glob("*.pid"))
