"""Per-service deployment files, written from the one service registry (services.py).

    python -m kugelpos.registry.deploy                 # (re)write the generated files
    python -m kugelpos.registry.deploy --check         # exit 1 if a committed file is stale
    python -m kugelpos.registry.deploy compose-block journal   # print compose blocks to paste

Generated (do not edit by hand):
- deploy/kubernetes/base/services/<name>.yaml: Deployment + Service of each service, with the
  Dapr annotations, probes on /health, resources, and secrets by secretKeyRef;
- deploy/kubernetes/base/services/kustomization.yaml: the list of those files and the
  `kugelpos-services` ConfigMap (BASE_URL_<SERVICE> of every registered service);
- deploy/azure/services.json: the services the Bicep template loops over (loadJsonContent).

Everything else under deploy/ (Dapr components, HPA, overlays, the Bicep template) is written by
hand. docker-compose.yaml is hand-maintained too (each engineer adds a service's two blocks);
`compose-block` prints them in the shape tests/test_compose_structure.py checks.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

import yaml

from kugelpos.registry.paths import repo_root
from kugelpos.registry.services import SERVICES, ServiceSpec

KUBE_SERVICES_DIR = Path("deploy/kubernetes/base/services")
AZURE_SERVICES = Path("deploy/azure/services.json")
REGENERATE = "python -m kugelpos.registry.deploy"
HEADER = (
    "# Generated from tools/registry/src/kugelpos/registry/services.py by\n"
    f"# `{REGENERATE}`; do not edit: change the registry or deploy.py and regenerate.\n"
)

IMAGE_REPOSITORY = "kugelpos"  # images kugelpos/<name>; overlays and CI point them at a registry
DAPR_CONFIG = "kugelpos"  # the Dapr Configuration (deploy/kubernetes/base/dapr/configuration.yaml)
APP_TOKEN_SECRET = "kugelpos-app-token"  # Secret with key `token` (dapr.io/app-token-secret)
# One Secret per service with key `token` (dapr.io/api-token-secret): daprd refuses any call to
# its API without it, and a token opens one service's sidecar only.
DAPR_API_TOKEN_SECRET_PREFIX = "kugelpos-dapr-api-token-"
SECRETS = "kugelpos-secrets"  # Secret with SECRET_KEY, PUBSUB_NOTIFY_API_KEY, MONGODB_URI
SECRET_ENV = ("SECRET_KEY", "PUBSUB_NOTIFY_API_KEY", "MONGODB_URI")
# Services no frontend or terminal calls directly get internal ingress only (Azure). Every
# service of the contract today is called by terminals or the back office.
INTERNAL_ONLY: frozenset[str] = frozenset()
# Services whose POST /api/v1/tenants the terminal service calls at tenant creation.
NO_TENANT_SETUP = frozenset({"account", "terminal"})


# Who consumes (and acknowledges) each published log, of the services that may be deployed;
# a publisher waits only for the registered ones, else it would republish to a missing one.
TRANLOG_CONSUMERS = ("report", "journal", "stock", "stored-value")  # cart's TRANLOG_CONSUMERS
TERMINAL_LOG_CONSUMERS = ("report", "journal")  # terminal's CASHLOG_/OPENCLOSELOG_CONSUMERS


def tenant_setup_services(specs: Sequence[ServiceSpec] = SERVICES) -> str:
    return ",".join(spec.name for spec in specs if spec.name not in NO_TENANT_SETUP)


def _registered(names: Sequence[str], specs: Sequence[ServiceSpec]) -> str:
    known = {spec.name for spec in specs}
    return ",".join(name for name in names if name in known)


def service_env(spec: ServiceSpec, specs: Sequence[ServiceSpec] = SERVICES) -> dict[str, str]:
    """Settings of one service that depend on which other services are deployed."""
    if spec.name == "terminal":
        logs = _registered(TERMINAL_LOG_CONSUMERS, specs)
        return {
            "TENANT_SETUP_SERVICES": tenant_setup_services(specs),
            "CASHLOG_CONSUMERS": logs,
            "OPENCLOSELOG_CONSUMERS": logs,
        }
    if spec.name == "cart":
        return {"TRANLOG_CONSUMERS": _registered(TRANLOG_CONSUMERS, specs)}
    return {}


def dapr_api_token_secret(spec: ServiceSpec) -> str:
    return f"{DAPR_API_TOKEN_SECRET_PREFIX}{spec.name}"


def _env(spec: ServiceSpec, specs: Sequence[ServiceSpec]) -> list[dict]:
    env: list[dict] = [
        {"name": "SERVICE_NAME", "value": spec.name},
        {"name": "PORT", "value": str(spec.port)},
    ]
    env += [
        {"name": key, "valueFrom": {"secretKeyRef": {"name": SECRETS, "key": key}}}
        for key in SECRET_ENV
    ]
    env.append(
        {
            "name": "APP_API_TOKEN",
            "valueFrom": {"secretKeyRef": {"name": APP_TOKEN_SECRET, "key": "token"}},
        }
    )
    env.append(
        {
            "name": "DAPR_API_TOKEN",
            "valueFrom": {"secretKeyRef": {"name": dapr_api_token_secret(spec), "key": "token"}},
        }
    )
    env += [{"name": key, "value": value} for key, value in service_env(spec, specs).items()]
    return env


def _probe(spec: ServiceSpec, *, period: int, failures: int) -> dict:
    return {
        "httpGet": {"path": "/health", "port": "http"},
        "initialDelaySeconds": 5,
        "periodSeconds": period,
        "timeoutSeconds": 5,
        "failureThreshold": failures,
    }


def kubernetes_service(spec: ServiceSpec, specs: Sequence[ServiceSpec] = SERVICES) -> list[dict]:
    labels = {"app.kubernetes.io/name": spec.name, "app.kubernetes.io/part-of": "kugelpos"}
    container = {
        "name": spec.name,
        "image": f"{IMAGE_REPOSITORY}/{spec.name}:latest",
        "ports": [{"name": "http", "containerPort": spec.port}],
        "envFrom": [{"configMapRef": {"name": "kugelpos-services"}}],
        "env": _env(spec, specs),
        # Not ready while MongoDB or the sidecar does not answer; restarted only after a
        # long run of failures, so a database outage does not restart every pod.
        "readinessProbe": _probe(spec, period=10, failures=3),
        "livenessProbe": _probe(spec, period=20, failures=6),
        "resources": {
            "requests": {"cpu": "100m", "memory": "192Mi"},
            "limits": {"cpu": "1", "memory": "512Mi"},
        },
        "securityContext": {
            "runAsNonRoot": True,
            "runAsUser": 10001,
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "capabilities": {"drop": ["ALL"]},
        },
        "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}],  # noqa: S108
    }
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": spec.name, "labels": labels},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app.kubernetes.io/name": spec.name}},
            "template": {
                "metadata": {
                    "labels": labels,
                    "annotations": {
                        "dapr.io/enabled": "true",
                        "dapr.io/app-id": spec.dapr_app_id,
                        "dapr.io/app-port": str(spec.port),
                        "dapr.io/config": DAPR_CONFIG,
                        "dapr.io/app-token-secret": APP_TOKEN_SECRET,
                        "dapr.io/api-token-secret": dapr_api_token_secret(spec),
                        "dapr.io/enable-metrics": "true",
                        "dapr.io/metrics-port": "9090",
                        "prometheus.io/scrape": "true",
                        "prometheus.io/port": str(spec.port),
                        "prometheus.io/path": "/metrics",
                    },
                },
                "spec": {
                    "automountServiceAccountToken": False,
                    "containers": [container],
                    "volumes": [{"name": "tmp", "emptyDir": {}}],
                },
            },
        },
    }
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": spec.name, "labels": labels},
        "spec": {
            "selector": {"app.kubernetes.io/name": spec.name},
            "ports": [{"name": "http", "port": spec.port, "targetPort": "http"}],
        },
    }
    return [deployment, service]


def _dump(documents: list[dict]) -> str:
    return HEADER + "---\n".join(
        yaml.safe_dump(doc, sort_keys=False, default_flow_style=False) for doc in documents
    )


def base_url(spec: ServiceSpec) -> str:
    return f"http://{spec.name}:{spec.port}/api/v1"


def generated_files(specs: Sequence[ServiceSpec] = SERVICES) -> dict[Path, str]:
    files: dict[Path, str] = {}
    for spec in specs:
        files[KUBE_SERVICES_DIR / f"{spec.name}.yaml"] = _dump(kubernetes_service(spec, specs))
    literals = [f"{spec.base_url_env}={base_url(spec)}" for spec in specs]
    kustomization = {
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "resources": [f"{spec.name}.yaml" for spec in specs],
        "configMapGenerator": [
            {
                "name": "kugelpos-services",
                "options": {"disableNameSuffixHash": True},
                "literals": literals,
            }
        ],
    }
    files[KUBE_SERVICES_DIR / "kustomization.yaml"] = _dump([kustomization])
    azure = [
        {
            "name": spec.name,
            "appId": spec.dapr_app_id,
            "port": spec.port,
            "externalIngress": spec.name not in INTERNAL_ONLY,
            "baseUrlEnv": spec.base_url_env,
            "env": [{"name": k, "value": v} for k, v in service_env(spec, specs).items()],
        }
        for spec in specs
    ]
    files[AZURE_SERVICES] = json.dumps(azure, indent=2) + "\n"
    return files


def stale_files(root: Path, specs: Sequence[ServiceSpec] = SERVICES) -> list[Path]:
    """Generated files that differ from what is committed, and generated-looking files left
    over from a service no longer registered."""
    expected = generated_files(specs)
    stale = [
        path
        for path, text in expected.items()
        if not (root / path).is_file() or (root / path).read_text() != text
    ]
    directory = root / KUBE_SERVICES_DIR
    if directory.is_dir():
        stale += [
            path.relative_to(root)
            for path in sorted(directory.glob("*.yaml"))
            if path.relative_to(root) not in expected
        ]
    return stale


def write(root: Path, specs: Sequence[ServiceSpec] = SERVICES) -> list[Path]:
    expected = generated_files(specs)
    written = []
    for path, text in expected.items():
        target = root / path
        if not target.is_file() or target.read_text() != text:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text)
            written.append(path)
    for path in sorted((root / KUBE_SERVICES_DIR).glob("*.yaml")):
        if path.relative_to(root) not in expected:
            path.unlink()
            written.append(path.relative_to(root))
    return written


def compose_block(spec: ServiceSpec) -> str:
    """The service's two docker-compose.yaml blocks, as the existing ones are written."""
    return f"""  {spec.name}:
    <<: *service
    build:
      context: .
      dockerfile: Dockerfile
      args:
        SERVICE_NAME: {spec.name}
        PORT: "{spec.port}"
    image: kugelpos/{spec.name}:latest
    environment:
      <<: *service-env
      SERVICE_NAME: {spec.name}
    ports:
      - "{spec.port}:{spec.port}"

  {spec.name}-dapr:
    <<: *daprd
    command:
      - ./daprd
      - --app-id={spec.dapr_app_id}
      - --app-port={spec.port}
      - --dapr-http-port=3500
      - --resources-path=/components
      - --config=/config/config.yaml
      - --dapr-listen-addresses=127.0.0.1
    network_mode: "service:{spec.name}"
"""


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=REGENERATE, description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if generated files are stale")
    sub = parser.add_subparsers(dest="command")
    block = sub.add_parser("compose-block", help="print a service's docker-compose blocks")
    block.add_argument("name")
    args = parser.parse_args(argv)
    root = repo_root()
    if args.command == "compose-block":
        from kugelpos.registry.services import service

        print(compose_block(service(args.name)), end="")
        return 0
    if args.check:
        stale = stale_files(root)
        for path in stale:
            print(f"out of date: {path}", file=sys.stderr)
        if stale:
            print(f"run `{REGENERATE}` (or `make deploy-files`) and commit", file=sys.stderr)
        return 1 if stale else 0
    for path in write(root):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
