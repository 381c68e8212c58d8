"""The delivery workflow, validated offline against the GitHub Actions workflow schema that
the pinned check-jsonschema wheel ships, and its shape: every stage in order, every registered
service built from the one Dockerfile, production behind its environment, the suite run once
more against a MongoDB 7 replica set before any image is built."""

from __future__ import annotations

import copy
import itertools
import re
import shutil
import subprocess
from pathlib import Path

import jsonschema
import pytest
import yaml
from check_jsonschema.builtin_schemas import get_builtin_schema

ROOT = Path(__file__).resolve().parents[1]
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.y*ml"))
DELIVER = ROOT / ".github" / "workflows" / "deliver.yml"
SCHEMA = get_builtin_schema("vendor.github-workflows")


def _load(path: Path) -> dict:
    # YAML 1.1 reads the key `on` as True; GitHub reads it as "on".
    document = yaml.safe_load(path.read_text())
    if True in document:
        document["on"] = document.pop(True)
    return document


def _errors(document: dict) -> list[str]:
    validator = jsonschema.Draft7Validator(SCHEMA)
    return [
        f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}"
        for e in validator.iter_errors(document)
    ]


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda path: path.name)
def test_workflows_match_the_github_actions_schema(path):
    assert not _errors(_load(path))


def test_schema_check_rejects_a_broken_workflow():
    broken = copy.deepcopy(_load(DELIVER))
    broken["jobs"]["test"]["runs_on"] = broken["jobs"]["test"].pop("runs-on")
    broken["jobs"]["image"]["timeout-minutes"] = "soon"
    assert len(_errors(broken)) >= 2


def test_stages_run_in_order_and_production_is_protected():
    jobs = _load(DELIVER)["jobs"]
    chain = ["test", "image", "deploy-staging", "integration-staging", "deploy-production"]
    for before, after in itertools.pairwise(chain):
        needs = jobs[after]["needs"]
        assert before in ([needs] if isinstance(needs, str) else needs), (before, after)
    assert jobs["deploy-production"]["environment"] == "production"
    assert jobs["deploy-staging"]["environment"] == "staging"
    steps = " ".join(step.get("run", "") for step in jobs["test"]["steps"])
    assert "make install" in steps and "make test" in steps


def _run(step: dict) -> str:
    return step.get("run", "")


def test_the_suite_also_runs_against_a_mongodb_7_replica_set():
    jobs = _load(DELIVER)["jobs"]
    job = jobs["test-mongodb"]
    # Beside the embedded-stack job, and no image is built unless both passed.
    assert "needs" not in job
    assert {"test", "test-mongodb"} <= set(jobs["image"]["needs"])
    steps = job["steps"]
    names = [step.get("name", step.get("uses", _run(step))) for step in steps]

    def index(predicate) -> int:
        (found,) = [n for n, step in enumerate(steps) if predicate(step)]
        return found

    start = index(lambda s: "docker run" in _run(s))
    script = _run(steps[start])
    # mongo:7 started as a replica set member, initiated, and waited for until it is primary.
    assert re.search(r"docker run .*\bmongo:7\s+--replSet rs0\b", script.replace("\\\n", " "))
    assert "--publish 127.0.0.1:27017:27017" in script
    initiate = script.index("rs.initiate(")
    assert '_id: "rs0"' in script[initiate:] and "127.0.0.1:27017" in script[initiate:]
    assert "isWritablePrimary" in script[initiate:]
    assert script.count("timeout ") >= 2  # neither wait can hang the job

    install = index(lambda s: _run(s) == "make install")
    run_tests = index(lambda s: "make test" in _run(s))
    assert start < run_tests and install < run_tests, names
    test_step = steps[run_tests]
    uri = test_step["env"]["MONGODB_URI"]
    assert uri.startswith("mongodb://127.0.0.1:27017/") and "replicaSet=rs0" in uri
    assert 'MONGODB_URI="$MONGODB_URI"' in _run(test_step)  # the documented make form
    (logs,) = [s for s in steps if s.get("if") == "failure()"]
    assert "docker logs" in _run(logs)


@pytest.mark.skipif(shutil.which("bash") is None, reason="no bash to parse the scripts with")
@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda path: path.name)
def test_every_run_script_is_valid_bash(path):
    for job_name, job in _load(path)["jobs"].items():
        for step in job.get("steps", []):
            if "run" in step:
                check = subprocess.run(
                    ["bash", "-n"], input=step["run"], capture_output=True, text=True
                )
                assert check.returncode == 0, (job_name, step.get("name"), check.stderr)


def test_every_registered_service_is_built_pushed_and_deployed():
    jobs = _load(DELIVER)["jobs"]
    registry = " ".join(step.get("run", "") for step in jobs["test"]["steps"])
    assert "from kugelpos.registry.services import SERVICES" in registry
    image = jobs["image"]
    assert image["strategy"]["matrix"]["service"] == "${{ fromJSON(needs.test.outputs.services) }}"
    (build,) = [s for s in image["steps"] if s.get("uses", "").startswith("docker/build-push")]
    assert build["with"]["file"] == "Dockerfile" and build["with"]["push"] is True
    assert "SERVICE_NAME=${{ matrix.service.name }}" in build["with"]["build-args"]
    assert ".azurecr.io/" in build["with"]["tags"]
    assert any("az acr login" in s.get("run", "") for s in image["steps"])
    for name in ("deploy-staging", "deploy-production"):
        run = " ".join(s.get("run", "") for s in jobs[name]["steps"])
        assert "az deployment group create" in run
        assert "--template-file deploy/azure/main.bicep" in run
        assert (ROOT / "deploy" / "azure" / "main.bicep").is_file()
        assert jobs[name]["permissions"]["id-token"] == "write"  # OIDC, no stored password


def test_no_secret_values_in_workflows():
    for path in WORKFLOWS:
        text = path.read_text()
        assert not re.search(
            r"(password|secret|token)\s*[:=]\s*['\"]?[A-Za-z0-9+/]{16,}", text, re.I
        )
