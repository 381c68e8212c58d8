"""docker-compose.yaml keeps the production shape for every service in the registry:
a daprd sidecar per service, MongoDB as a replica set, Redis, mounted Dapr files, no secrets.
It is also validated against the Compose Specification's JSON schema (vendored under
deploy/schemas/, so the check runs offline)."""

import copy
import json
import re
from pathlib import Path

import jsonschema
import pytest
import yaml

from kugelpos.registry.services import SERVICES, ServiceSpec

ROOT = Path(__file__).resolve().parents[1]
COMPOSE_TEXT = (ROOT / "docker-compose.yaml").read_text()
COMPOSE = yaml.safe_load(COMPOSE_TEXT)  # resolves the x-* anchors and << merges
BLOCKS: dict = COMPOSE["services"]
INFRA = {"mongo", "redis"}
REQUIRED_ENV = re.compile(r"^\$\{[A-Z_]+:\?[^}]*\}$")  # ${VAR:?message}
SECRET_NAMES = re.compile(r"SECRET|PASSWORD|API_KEY|TOKEN")
SCHEMA = json.loads((ROOT / "deploy" / "schemas" / "compose-spec.json").read_text())


def _sidecar_name(spec: ServiceSpec) -> str:
    return f"{spec.name}-dapr"


def _flags(block: dict) -> dict[str, str]:
    """daprd command flags as a dict, accepting --flag=value and --flag value."""
    command = block["command"]
    args = command.split() if isinstance(command, str) else list(command)
    flags: dict[str, str] = {}
    for index, arg in enumerate(args):
        if not arg.startswith("--"):
            continue
        name, sep, value = arg.partition("=")
        if not sep and index + 1 < len(args) and not args[index + 1].startswith("--"):
            value = args[index + 1]
        flags[name] = value
    return flags


def _env(block: dict) -> dict[str, str]:
    env = block.get("environment", {})
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {key: str(value) for key, value in env.items()}


@pytest.mark.parametrize("spec", SERVICES, ids=lambda spec: spec.name)
def test_each_registered_service_is_built_and_published(spec):
    block = BLOCKS[spec.name]
    dockerfile = block["build"]["dockerfile"]
    assert dockerfile == "Dockerfile", "every service is built from the one root Dockerfile"
    assert (ROOT / dockerfile).is_file()
    assert block["build"]["context"] == "."
    assert block["build"]["args"]["SERVICE_NAME"] == spec.name
    assert str(block["build"]["args"].get("PORT", spec.port)) == str(spec.port)
    assert f"{spec.port}:{spec.port}" in [str(port) for port in block["ports"]]
    env = _env(block)
    assert env["SERVICE_NAME"] == spec.name
    assert env["DAPR_HTTP_ENDPOINT"] == "http://localhost:3500"
    # MongoDB with authentication, Redis with a password: both from the environment.
    assert re.fullmatch(
        r"mongodb://\$\{MONGO_APP_USERNAME:-kugelpos\}:\$\{MONGO_APP_PASSWORD:\?[^}]*\}"
        r"@mongo:27017/\?replicaSet=rs0&authSource=admin",
        env["MONGODB_URI"],
    ), env["MONGODB_URI"]
    assert re.fullmatch(r"redis://:\$\{REDIS_PASSWORD:\?[^}]*\}@redis:6379/0", env["REDIS_URL"])
    for other in SERVICES:
        assert env[other.base_url_env] == f"http://{other.name}:{other.port}/api/v1"
    assert {"mongo", "redis"} <= set(block["depends_on"])


@pytest.mark.parametrize("spec", SERVICES, ids=lambda spec: spec.name)
def test_each_registered_service_has_a_daprd_sidecar(spec):
    sidecar = BLOCKS[_sidecar_name(spec)]
    assert sidecar["image"].startswith("daprio/daprd:")
    assert sidecar["network_mode"] == f"service:{spec.name}"
    flags = _flags(sidecar)
    assert flags["--app-id"] == spec.dapr_app_id
    assert flags["--app-port"] == str(spec.port)
    assert flags["--dapr-http-port"] == "3500"
    mounts = {volume.split(":")[0]: volume.split(":")[1] for volume in sidecar["volumes"]}
    assert mounts["./dapr/components"] == flags["--resources-path"]
    assert mounts["./dapr/config.yaml"] == flags["--config"]
    # The app and its daprd share one app API token and one Dapr API token, taken from the
    # environment only.
    for key in ("APP_API_TOKEN", "DAPR_API_TOKEN"):
        token = _env(sidecar)[key]
        assert REQUIRED_ENV.match(token)
        assert token.split(":?")[0] == _env(BLOCKS[spec.name])[key].split(":?")[0]
    # The Dapr API on the service's loopback only (the service shares its network namespace):
    # no other container reaches it, token or not.
    assert flags["--dapr-listen-addresses"] == "127.0.0.1"
    # What the components' secretKeyRef reads through the envsecrets store.
    assert REQUIRED_ENV.match(_env(sidecar)["REDIS_PASSWORD"])


def test_no_unregistered_application_services():
    registered = {spec.name for spec in SERVICES}
    sidecars = {_sidecar_name(spec) for spec in SERVICES}
    assert set(BLOCKS) - INFRA - sidecars == registered


def test_mongo_is_a_single_node_replica_set_initiated_by_its_healthcheck():
    mongo = BLOCKS["mongo"]
    assert mongo["image"].startswith("mongo:7")
    command = " ".join(mongo["command"])
    assert "--replSet rs0" in command
    assert "rs.initiate" in " ".join(mongo["healthcheck"]["test"])


def test_mongo_runs_with_authentication():
    mongo = BLOCKS["mongo"]
    env = _env(mongo)
    assert REQUIRED_ENV.match(env["MONGO_INITDB_ROOT_PASSWORD"])
    assert REQUIRED_ENV.match(env["MONGO_APP_PASSWORD"])
    # A replica set with authorization needs a key file; the entrypoint writes it first.
    args = mongo["command"]
    keyfile = args[args.index("--keyFile") + 1]
    script = mongo["entrypoint"][2]
    assert keyfile in script and "chmod 400" in script and 'docker-entrypoint.sh "$$@"' in script
    # The health check (which initiates the set) logs in; the services' user is created once.
    check = " ".join(mongo["healthcheck"]["test"])
    assert "--authenticationDatabase admin" in check and "MONGO_INITDB_ROOT_PASSWORD" in check
    init_dir = next(
        volume.split(":")[0]
        for volume in mongo["volumes"]
        if "docker-entrypoint-initdb.d" in volume
    )
    script_text = "".join(path.read_text() for path in (ROOT / init_dir).glob("*.js"))
    assert "createUser" in script_text and "MONGO_APP_PASSWORD" in script_text
    assert 'role: "readWriteAnyDatabase"' in script_text and 'role: "root"' not in script_text
    for name in set(BLOCKS) & {spec.name for spec in SERVICES}:
        assert BLOCKS[name]["depends_on"]["mongo"]["condition"] == "service_healthy"


def test_redis_7_with_a_password():
    redis_block = BLOCKS["redis"]
    assert redis_block["image"].startswith("redis:7")
    assert "healthcheck" in redis_block
    assert '--requirepass "$$REDIS_PASSWORD"' in " ".join(redis_block["command"])
    env = _env(redis_block)
    assert REQUIRED_ENV.match(env["REDIS_PASSWORD"])
    # redis-cli (the health check) reads its password from REDISCLI_AUTH.
    assert env["REDISCLI_AUTH"] == env["REDIS_PASSWORD"]


def test_dapr_components_read_the_redis_password_from_the_env_secret_store():
    components = ROOT / "dapr" / "components"
    docs = [yaml.safe_load(path.read_text()) for path in sorted(components.glob("*.yaml"))]
    docs = [d for d in docs if d["kind"] == "Component"]  # not the resiliency policy
    stores = {d["metadata"]["name"] for d in docs if d["spec"]["type"] == "secretstores.local.env"}
    assert stores == {"envsecrets"}
    redis_backed = [d for d in docs if d["spec"]["type"] in ("pubsub.redis", "state.redis")]
    assert redis_backed
    for doc in redis_backed:
        metadata = {m["name"]: m for m in doc["spec"]["metadata"]}
        password = metadata["redisPassword"]
        assert "value" not in password, doc["metadata"]["name"]
        assert password["secretKeyRef"]["name"] == "REDIS_PASSWORD"
        assert doc["auth"]["secretStore"] == "envsecrets"


def test_mounted_dapr_files_exist():
    components = ROOT / "dapr" / "components"
    assert any(components.glob("*.yaml"))
    assert (ROOT / "dapr" / "config.yaml").is_file()


def test_no_hard_coded_secrets():
    for name, block in BLOCKS.items():
        for key, value in _env(block).items():
            if SECRET_NAMES.search(key):
                assert REQUIRED_ENV.match(value), f"{name}: {key} must come from ${{{key}:?}}"
    assert "test-secret-key-for-development-only" not in COMPOSE_TEXT
    assert "test-api-key-for-development-only" not in COMPOSE_TEXT


@pytest.mark.parametrize("name", sorted(set(BLOCKS) - INFRA))
def test_app_token_and_secrets_come_from_the_environment(name):
    env = _env(BLOCKS[name])
    required = ["APP_API_TOKEN", "DAPR_API_TOKEN"]
    if not name.endswith("-dapr"):
        required += ["SECRET_KEY", "PUBSUB_NOTIFY_API_KEY"]
    for key in required:
        assert REQUIRED_ENV.match(env.get(key, "")), f"{name}: {key} must be ${{{key}:?...}}"


def _schema_errors(document: dict) -> list[str]:
    validator = jsonschema.Draft202012Validator(SCHEMA)
    return [
        f"{'/'.join(map(str, error.absolute_path)) or '<root>'}: {error.message}"
        for error in validator.iter_errors(document)
    ]


def test_compose_file_matches_the_compose_specification_schema():
    assert not _schema_errors(COMPOSE)


def test_schema_check_rejects_what_compose_would():
    broken = copy.deepcopy(COMPOSE)
    broken["services"]["account"]["restart"] = ["always"]  # must be a string
    broken["services"]["cart"]["helthcheck"] = {}  # misspelt key
    broken["volumes"] = ["mongo-data"]  # must be a mapping
    errors = _schema_errors(broken)
    assert any(e.startswith("services/account/restart") for e in errors), errors
    assert any("helthcheck" in e for e in errors), errors
    assert any(e.startswith("volumes") for e in errors), errors


@pytest.mark.parametrize("spec", SERVICES, ids=lambda spec: spec.name)
def test_printed_compose_blocks_match_the_committed_ones(spec):
    """`python -m kugelpos.registry.deploy compose-block <name>` prints what this file holds."""
    from kugelpos.registry.deploy import compose_block

    anchors = COMPOSE_TEXT[: COMPOSE_TEXT.index("\nservices:")]
    printed = yaml.safe_load(f"{anchors}\nservices:\n{compose_block(spec)}")["services"]
    for name in (spec.name, _sidecar_name(spec)):
        committed = dict(BLOCKS[name])
        block = printed[name]
        if "environment" in committed:
            assert _env(block).items() <= _env(committed).items()
            committed.pop("environment")
            block.pop("environment")
        assert block == committed, name


@pytest.mark.parametrize("spec", SERVICES, ids=lambda spec: spec.name)
def test_settings_that_depend_on_the_deployed_services(spec):
    """Tenant set-up and event consumers name exactly the registered services (as the
    Kubernetes and Azure files generated by `make deploy-files` do)."""
    from kugelpos.registry.deploy import service_env

    env = _env(BLOCKS[spec.name])
    for key, value in service_env(spec).items():
        assert env.get(key) == value, f"{spec.name}: set {key}: {value} in docker-compose.yaml"
