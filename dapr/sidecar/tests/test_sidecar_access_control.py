"""Service invocation access control: the `accessControl` of the Configuration given with
`--config` (dapr/config.yaml for the product), evaluated for the app whose API token the call
presents. A denied call is 403 ERR_DIRECT_INVOKE (`... PermissionDenied desc = access control
policy has denied access ...`) and never reaches the app. The method is normalised before it is
judged, so `..`, doubled slashes, case or an encoded slash do not slip past a policy.

The product's policies are checked with apps named like the services: cart invoking journal's
subscriber route is what a neighbour would do to feed journal a forged sale with journal's own
app API token attached."""

import json
import secrets
import uuid
from pathlib import Path

import pytest
import yaml

from kugelpos.sidecar.access_control import AccessControl, AccessControlError
from kugelpos.sidecar.cli import parse_settings

PRODUCT_CONFIG = Path(__file__).resolve().parents[2] / "config.yaml"


@pytest.fixture(scope="module")
def tokens() -> dict[str, str]:
    return {app: secrets.token_hex(32) for app in ("cart", "journal")}


@pytest.fixture(scope="module")
def product(shared_stack_builder, tokens, fast_settings):
    stack = shared_stack_builder("acl")
    journal = stack.app("journal", [])
    cart = stack.app("cart", [])
    journal.start()
    cart.start()
    sidecar = stack.start_sidecar(
        (*fast_settings, f"--config={PRODUCT_CONFIG}"),
        env={"DAPR_API_TOKENS": json.dumps(tokens), "APP_API_TOKEN": "journal-app-token"},
    )
    yield sidecar, journal
    stack.stop()


@pytest.mark.parametrize(
    "method",
    [
        "api/v1/tranlog",
        "api/v1/cashlog",
        "api/v1/opencloselog",
        "events/tranlog_report",
        "API/V1/TRANLOG",
        "api/v1/../v1/tranlog",
        "api//v1/tranlog",
        "api%2Fv1%2Ftranlog",
        "api%252Fv1%252Ftranlog",
        "dapr/subscribe",
    ],
)
def test_no_app_reaches_another_apps_subscriber_routes(product, tokens, method):
    sidecar, journal = product
    key = f"forged-{uuid.uuid4().hex[:8]}"
    with sidecar.client(tokens["cart"]) as cart:
        response = cart.post(f"/v1.0/invoke/journal/method/{method}", json={"key": key})
    assert response.status_code == 403, response.text
    body = response.json()
    assert body["errorCode"] == "ERR_DIRECT_INVOKE"
    assert "PermissionDenied" in body["message"] or "normalization" in body["message"]
    assert journal.deliveries(key) == []


def test_the_one_allowed_operation_reaches_the_app(product, tokens):
    sidecar, _ = product
    with sidecar.client(tokens["cart"]) as cart:
        allowed = cart.get("/v1.0/invoke/journal/method/health")
        wrong_verb = cart.post("/v1.0/invoke/journal/method/health")
    assert allowed.status_code == 200 and allowed.json()["app_id"] == "journal"
    assert wrong_verb.status_code == 403


def test_without_api_tokens_no_caller_is_verified_and_the_global_default_applies(
    make_stack, fast_settings
):
    """daprd: when the caller's identity cannot be verified, the global default action."""
    stack = make_stack()
    stack.app("journal", []).start()
    sidecar = stack.start_sidecar((*fast_settings, f"--config={PRODUCT_CONFIG}"))
    response = sidecar.http.get(
        "/v1.0/invoke/journal/method/health", headers={"dapr-app-id": "cart"}
    )
    assert response.status_code == 403
    assert "access control policy has denied access" in response.json()["message"]


def test_an_unusable_configuration_stops_the_sidecar_at_start(tmp_path, capsys):
    config = tmp_path / "config.yaml"
    spec = {"accessControl": {"defaultAction": "deny", "policies": [{"appId": "cart"}]}}
    config.write_text(yaml.safe_dump({"kind": "Configuration", "spec": spec}))
    with pytest.raises(SystemExit):
        parse_settings([f"--config={config}"])
    assert "trustDomain and namespace are required" in capsys.readouterr().err


# ---- the rules (one function, no process) ----------------------------------------------------


def _acl(spec: dict) -> AccessControl | None:
    return AccessControl.parse(spec)


def test_no_access_control_allows_everything():
    assert _acl({}) is None
    assert _acl({"policies": []}) is None


def test_policies_without_a_global_default_deny_other_callers():
    acl = _acl({"policies": [{"appId": "a", "trustDomain": "public", "namespace": "default"}]})
    assert acl is not None and acl.default_action == "deny"
    # A policy without its own default and without operations leaves the global one.
    assert not acl.allows("a", "/x", "GET")
    assert not acl.allows("b", "/x", "GET")


def test_operation_verbs_wildcards_and_the_app_default():
    acl = _acl(
        {
            "defaultAction": "deny",
            "policies": [
                {
                    "appId": "caller",
                    "defaultAction": "deny",
                    "trustDomain": "public",
                    "namespace": "default",
                    "operations": [
                        {"name": "/orders/*/lines", "httpVerb": ["GET"], "action": "allow"},
                        {"name": "/admin/**", "httpVerb": ["*"], "action": "deny"},
                        {"name": "/public/**", "httpVerb": ["*"]},
                    ],
                },
                {
                    "appId": "friend",
                    "defaultAction": "allow",
                    "trustDomain": "public",
                    "namespace": "default",
                },
            ],
        }
    )
    assert acl is not None
    assert acl.allows("caller", "/orders/7/lines", "GET")
    assert not acl.allows("caller", "/orders/7/lines", "POST")  # verb not listed: app default
    assert not acl.allows("caller", "/orders/7/8/lines", "GET")  # * is one segment
    assert acl.allows("caller", "/public", "PUT") and acl.allows("caller", "/public/a/b", "GET")
    assert not acl.allows("caller", "/admin/x", "GET")
    assert not acl.allows("caller", "/elsewhere", "GET")
    assert acl.allows("friend", "/anything", "DELETE")
    assert not acl.allows("friend", "/anything", "GET", namespace="other")  # policy not matched
    assert not acl.allows("friend", "/anything", "GET", trust_domain="other")
    assert not acl.allows(None, "/anything", "GET")  # unverified: global default


def test_a_policy_without_namespace_or_trust_domain_is_refused():
    with pytest.raises(AccessControlError):
        _acl({"policies": [{"appId": "a", "trustDomain": "public"}]})
    with pytest.raises(AccessControlError):
        _acl({"policies": [{"appId": "a", "namespace": "default", "operations": [{}]}]})


def test_the_product_configuration_allows_only_health_reads():
    spec = yaml.safe_load(PRODUCT_CONFIG.read_text())["spec"]["accessControl"]
    acl = _acl(spec)
    assert acl is not None and acl.default_action == "deny"
    apps = {p.app_id for p in acl.policies.values()}
    assert apps == {
        "account",
        "terminal",
        "master-data",
        "cart",
        "report",
        "journal",
        "stock",
        "stored-value",
    }
    for app in apps:
        assert acl.allows(app, "/health", "GET")
        for route in ("/api/v1/tranlog", "/events/tranlog_status", "/api/v1/tenants/t/x"):
            assert not acl.allows(app, route, "POST")
