"""Dapr API token authentication (DAPR_API_TOKEN, the `dapr-api-token` header).

As daprd (pkg/http/middlewares.go APITokenAuthMiddleware): with a token configured, every call
without it, or with another value, gets 401 and the plain-text body `invalid api token`, and
nothing is done; `GET /v1.0/healthz` and `/v1.0/healthz/outbound` stay open. This sidecar serves
several apps, so it holds one token per app (DAPR_API_TOKENS) and the token says which app is
calling: a call cannot claim another app's identity by naming it."""

import json
import secrets
import uuid

import pytest

from kugelpos.sidecar.cli import parse_settings

REFUSAL = "invalid api token\n"


@pytest.fixture(scope="module")
def tokens() -> dict[str, str]:
    return {"alpha": secrets.token_hex(32), "beta": secrets.token_hex(32)}


@pytest.fixture(scope="module")
def topic() -> str:
    return f"tokens-{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="module")
def env(shared_stack_builder, tokens, topic, fast_settings):
    stack = shared_stack_builder("api-token")
    beta = stack.app("beta", [{"pubsubname": "pubsub", "topic": topic, "route": "/in"}])
    stack.app("alpha", []).start()
    beta.start()
    sidecar = stack.start_sidecar(fast_settings, env={"DAPR_API_TOKENS": json.dumps(tokens)})
    sidecar.wait_subscribed([("beta", topic)])
    yield sidecar, beta
    stack.stop()


def _refused(response) -> None:
    assert response.status_code == 401, response.text
    assert response.text == REFUSAL
    assert response.headers["content-type"] == "text/plain; charset=utf-8"


@pytest.mark.parametrize("token", [None, "", "wrong-" + "0" * 58], ids=["none", "empty", "wrong"])
def test_every_api_call_without_a_valid_token_is_401_and_does_nothing(
    env, tokens, topic, redis_client, token
):
    sidecar, beta = env
    key = f"k-{uuid.uuid4().hex[:8]}"
    before = redis_client.xlen(topic)
    with sidecar.client(token) as anonymous:
        _refused(anonymous.post(f"/v1.0/publish/pubsub/{topic}", json={"key": key}))
        _refused(anonymous.post("/v1.0/state/statestore", json=[{"key": key, "value": 1}]))
        _refused(anonymous.get(f"/v1.0/state/statestore/{key}"))
        _refused(anonymous.delete(f"/v1.0/state/statestore/{key}"))
        _refused(anonymous.post("/v1.0/state/statestore/bulk", json={"keys": [key]}))
        _refused(anonymous.post("/v1.0/state/statestore/transaction", json={"operations": []}))
        _refused(anonymous.post("/v1.0/invoke/beta/method/in", json={"key": key}))
        _refused(anonymous.get("/v1.0/invoke/alpha/method/echo/x"))
        _refused(anonymous.get("/v1.0/metadata"))
        # Routes the sidecar does not serve are refused before anything else looks at them.
        _refused(anonymous.get("/v1.0/secrets/any/any"))
        # Only GET of the health endpoints is open, as in daprd.
        _refused(anonymous.post("/v1.0/healthz"))
    assert redis_client.xlen(topic) == before
    assert not redis_client.exists(f"statestore||{key}")
    assert beta.deliveries(key) == []
    # The state call really would have written with a token: the refusal is the token's.
    with sidecar.client(tokens["alpha"]) as alpha:
        assert alpha.get(f"/v1.0/state/statestore/{key}").status_code == 204


def test_health_endpoints_stay_open(env):
    sidecar, _ = env
    with sidecar.client(None) as anonymous:
        assert anonymous.get("/v1.0/healthz").status_code == 204
        assert anonymous.get("/v1.0/healthz/outbound").status_code == 204
        # daprd trims slashes before it decides; here the router then redirects to /v1.0/healthz.
        assert anonymous.get("/v1.0/healthz/").status_code in (204, 307)


def test_a_valid_token_works_and_names_the_caller(env, tokens, topic):
    sidecar, beta = env
    key = f"k-{uuid.uuid4().hex[:8]}"
    with sidecar.client(tokens["alpha"]) as alpha:
        # The header apps use to name themselves on an open sidecar cannot override the token.
        response = alpha.post(
            f"/v1.0/publish/pubsub/{topic}", json={"key": key}, headers={"dapr-app-id": "beta"}
        )
        assert response.status_code == 204, response.text
        assert alpha.get("/v1.0/metadata").status_code == 200
    (delivery,) = beta.wait_deliveries(key, 1, "/in")
    assert delivery["body"]["source"] == "alpha"


def test_invocation_says_who_calls_and_passes_on_no_token_of_the_caller(env, tokens):
    sidecar, _ = env
    with sidecar.client(tokens["beta"]) as beta:
        echoed = beta.get(
            "/v1.0/invoke/alpha/method/echo/x",
            headers={"dapr-caller-app-id": "cart", "dapr-callee-app-id": "elsewhere"},
        ).json()
    headers = echoed["headers"]
    assert headers["dapr-caller-app-id"] == "beta"
    assert headers["dapr-callee-app-id"] == "alpha"
    assert "dapr-api-token" not in headers  # no APP_API_TOKEN here; never the caller's own


def test_daprd_form_one_token_for_the_one_app_served(make_stack, fast_settings):
    stack = make_stack()
    stack.app("solo", []).start()
    token = secrets.token_hex(32)
    sidecar = stack.start_sidecar(fast_settings, env={"DAPR_API_TOKEN": token})
    with sidecar.client(None) as anonymous:
        _refused(anonymous.get("/v1.0/invoke/solo/method/echo/x"))
    with sidecar.client(token) as solo:
        echoed = solo.get("/v1.0/invoke/solo/method/echo/x").json()
    assert echoed["headers"]["dapr-caller-app-id"] == "solo"


def _settings_error(monkeypatch, capsys, argv: list[str], env: dict[str, str]) -> str:
    for name in ("DAPR_API_TOKEN", "DAPR_API_TOKENS"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(SystemExit) as exited:
        parse_settings(argv)
    assert exited.value.code == 2
    return capsys.readouterr().err


TWO_APPS = ["--app", "a=http://127.0.0.1:1", "--app", "b=http://127.0.0.1:2"]


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"DAPR_API_TOKEN": "t" * 32}, "serves several"),
        ({"DAPR_API_TOKENS": json.dumps({"a": "t" * 32})}, "no token for b"),
        ({"DAPR_API_TOKENS": json.dumps({"a": "t" * 32, "b": "t" * 32})}, "token of its own"),
        ({"DAPR_API_TOKENS": "a=t"}, "JSON object"),
        ({"DAPR_API_TOKENS": json.dumps({"a": "x", "b": ""})}, "JSON object"),
        ({"DAPR_API_TOKENS": "{}", "DAPR_API_TOKEN": "t" * 32}, "not both"),
    ],
    ids=["one-token-many-apps", "app-without-token", "shared-token", "not-json", "empty", "both"],
)
def test_token_settings_that_cannot_tell_apps_apart_are_refused_at_start(
    monkeypatch, capsys, env, message
):
    assert message in _settings_error(monkeypatch, capsys, TWO_APPS, env)


def test_tokens_are_kept_out_of_the_settings_repr(monkeypatch):
    monkeypatch.setenv("DAPR_API_TOKENS", json.dumps({"a": "secret-a", "b": "secret-b"}))
    monkeypatch.delenv("DAPR_API_TOKEN", raising=False)
    settings = parse_settings(TWO_APPS)
    assert dict(settings.api_tokens) == {"a": "secret-a", "b": "secret-b"}
    assert "secret-a" not in repr(settings)
