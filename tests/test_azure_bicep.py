"""deploy/azure/main.bicep cannot be compiled offline (no Bicep CLI here): its structure is
checked instead, and that every registered service has a container app with Dapr enabled."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from kugelpos.registry.deploy import service_env
from kugelpos.registry.services import SERVICES

ROOT = Path(__file__).resolve().parents[1]
AZURE = ROOT / "deploy" / "azure"
BICEP = (AZURE / "main.bicep").read_text()
SERVICES_JSON = json.loads((AZURE / "services.json").read_text())
# Container Apps components take secrets of their own (Key Vault): the compose secret store of
# dapr/components has no counterpart there, nor has the resiliency policy (not a component).
LOCAL_COMPONENTS = {
    path.stem: doc
    for path in (ROOT / "dapr" / "components").glob("*.yaml")
    if (doc := yaml.safe_load(path.read_text()))["kind"] == "Component"
    and not doc["spec"]["type"].startswith("secretstores.")
}


def _code(text: str) -> str:
    """The template without comments and string contents (for bracket checks)."""
    out, i = [], 0
    while i < len(text):
        if text.startswith("//", i):
            i = text.find("\n", i)
            i = len(text) if i < 0 else i
        elif text.startswith("/*", i):
            i = text.index("*/", i) + 2
        elif text[i] == "'":
            i += 1
            while text[i] != "'":
                i += 2 if text[i] == "\\" else 1
            out.append("''")
            i += 1
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def _balanced(text: str) -> bool:
    pairs, stack = {")": "(", "]": "[", "}": "{"}, []
    for char in _code(text):
        if char in "([{":
            stack.append(char)
        elif char in pairs and (not stack or stack.pop() != pairs[char]):
            return False
    return not stack


def test_brackets_balance_and_the_check_can_fail():
    assert _balanced(BICEP)
    assert not _balanced(BICEP.replace("dapr: {", "dapr: ", 1))


@pytest.mark.parametrize("spec", SERVICES, ids=lambda spec: spec.name)
def test_every_registered_service_has_a_container_app(spec):
    entries = [entry for entry in SERVICES_JSON if entry["name"] == spec.name]
    assert entries == [
        {
            "name": spec.name,
            "appId": spec.dapr_app_id,
            "port": spec.port,
            "externalIngress": entries[0]["externalIngress"] if entries else True,
            "baseUrlEnv": spec.base_url_env,
            "env": [{"name": k, "value": v} for k, v in service_env(spec).items()],
        }
    ], "deploy/azure/services.json is stale: run `make deploy-files`"


def test_container_apps_loop_over_the_registry_with_dapr_enabled():
    assert "var services = loadJsonContent('services.json')" in BICEP
    apps = re.search(
        r"resource apps 'Microsoft\.App/containerApps@[\d-]+' = \[\s*for s in services:", BICEP
    )
    assert apps, "one container app per entry of services.json"
    body = BICEP[apps.end() :]
    assert re.search(r"dapr: \{\s*enabled: true\s*appId: s\.appId\s*appPort: s\.port", body)
    assert "external: s.externalIngress" in body and "targetPort: s.port" in body
    assert re.search(r"minReplicas: minReplicas", body) and "maxReplicas:" in body
    assert body.count("path: '/health'") == 2  # readiness and liveness
    assert "], baseUrls, s.env)" in body  # settings that depend on the deployed services
    assert "image: '${registryServer}/kugelpos/${s.name}:${imageTag}'" in body
    assert re.search(r"managedEnvironmentId: env\.id", body)


def test_dapr_components_mirror_dapr_components():
    names = re.search(r"var components = \{(.*?)\n\}", BICEP, flags=re.DOTALL).group(1)
    declared = dict(
        re.findall(r"^  '?([a-z-]+)'?: \{\s*componentType: '([a-z.]+)'", names, flags=re.M)
    )
    assert declared == {name: doc["spec"]["type"] for name, doc in LOCAL_COMPONENTS.items()}
    for name, doc in LOCAL_COMPONENTS.items():
        block = re.search(rf"^  '?{name}'?: \{{(.*?)^  \}}", names, flags=re.M | re.S).group(1)
        for item in doc["spec"]["metadata"]:
            if item["name"] in {"redisHost", "redisPassword"}:
                continue
            assert f"{{ name: '{item['name']}', value: '{item['value']}' }}" in block, (
                name,
                item,
            )
        # The same apps load it (component scopes are supported by Container Apps).
        scopes = ", ".join(f"'{app}'" for app in doc["scopes"])
        assert f"scopes: [{scopes}]" in block, name
    assert "scopes: components[name].scopes" in BICEP
    assert "Microsoft.App/managedEnvironments/daprComponents@" in BICEP
    assert "for name in objectKeys(components)" in BICEP


def test_secrets_come_from_key_vault_or_secure_parameters():
    for env in ("SECRET_KEY", "PUBSUB_NOTIFY_API_KEY", "MONGODB_URI"):
        match = re.search(rf"\{{ name: '{env}', (\w+): '[\w-]+' \}}", BICEP)
        assert match and match.group(1) == "secretRef", env
    secrets = re.findall(
        r"\{ name: '[\w-]+', keyVaultUrl: '[^']+', identity: identity\.id \}", BICEP
    )
    assert len(secrets) == 3
    # Container Apps injects its own APP_API_TOKEN; setting one would break Dapr deliveries.
    assert "'APP_API_TOKEN'" not in BICEP
    for param in re.findall(r"param (\w*(?:[Pp]assword|[Ss]ecret|[Tt]oken)\w*) string", BICEP):
        assert re.search(rf"@secure\(\)\s*(@description\('[^']*'\)\s*)?param {param} ", BICEP), (
            param
        )
    # No default value for a secret parameter, and no literal value for a secret setting
    # (DAPR_API_TOKEN_REQUIRED is a switch, not a secret: see the next test).
    assert not re.search(r"param \w*(password|secret|token)\w* string = '.+'", BICEP, flags=re.I)
    literal = re.compile(r"name: '([\w-]*(?:password|secret|token)[\w-]*)', value:", flags=re.I)
    assert set(literal.findall(BICEP)) <= {"DAPR_API_TOKEN_REQUIRED"}


def test_the_platform_sidecar_takes_no_dapr_api_token_and_the_apps_are_told():
    """Container Apps runs daprd without DAPR_API_TOKEN and offers no setting for it; the
    services refuse to start without one unless told so explicitly."""
    assert "{ name: 'DAPR_API_TOKEN_REQUIRED', value: 'false' }" in BICEP
    assert "'DAPR_API_TOKEN'" not in BICEP
    readme = (AZURE / "README.md").read_text()
    assert "DAPR_API_TOKEN_REQUIRED" in readme and "access control" in readme.lower()


def test_readme_has_the_deployment_command():
    readme = (AZURE / "README.md").read_text()
    assert (
        "az deployment group create" in readme
        and "--template-file deploy/azure/main.bicep" in readme
    )
