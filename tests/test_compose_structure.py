"""docker-compose.yaml keeps the production shape for every service in the devstack registry:
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

from kugelpos.devstack.services import SERVICES, ServiceSpec

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
    assert "replicaSet=" in env["MONGODB_URI"]
    assert env["REDIS_URL"].startswith("redis://redis:")
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
    # The app and its daprd share one app API token, taken from the environment only.
    token = _env(sidecar)["APP_API_TOKEN"]
    assert REQUIRED_ENV.match(token)
    assert token.split(":?")[0] == _env(BLOCKS[spec.name])["APP_API_TOKEN"].split(":?")[0]


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
    for name in set(BLOCKS) & {spec.name for spec in SERVICES}:
        assert BLOCKS[name]["depends_on"]["mongo"]["condition"] == "service_healthy"


def test_redis_7():
    assert BLOCKS["redis"]["image"].startswith("redis:7")
    assert "healthcheck" in BLOCKS["redis"]


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
    required = ["APP_API_TOKEN"]
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
    """`python -m kugelpos.devstack.deploy compose-block <name>` prints what this file holds."""
    from kugelpos.devstack.deploy import compose_block

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
    from kugelpos.devstack.deploy import service_env

    env = _env(BLOCKS[spec.name])
    for key, value in service_env(spec).items():
        assert env.get(key) == value, f"{spec.name}: set {key}: {value} in docker-compose.yaml"
