"""The delivery workflow, validated offline against the GitHub Actions workflow schema that
the pinned check-jsonschema wheel ships, and its shape: every stage in order, every registered
service built from the one Dockerfile, production behind its environment."""

from __future__ import annotations

import copy
import itertools
import re
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


def test_every_registered_service_is_built_pushed_and_deployed():
    jobs = _load(DELIVER)["jobs"]
    registry = " ".join(step.get("run", "") for step in jobs["test"]["steps"])
    assert "from kugelpos.devstack.services import SERVICES" in registry
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
