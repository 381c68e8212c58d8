"""Component scopes and pub/sub topic scopes, read from the component files as daprd reads them.

- `scopes:` on a component: an app outside the list does not have the component (daprd does not
  load it in that app's sidecar): publish answers ERR_PUBSUB_NOT_FOUND, state
  ERR_STATE_STORE_NOT_FOUND, and nothing is read or written.
- `publishingScopes` / `subscriptionScopes` / `allowedTopics` on a pub/sub: a publish the app may
  not make is 403 ERR_PUBSUB_FORBIDDEN (`topic X is not allowed for app id Y`) and nothing is
  appended; a subscription the app may not make is not made, so nothing is delivered to it.

Apps: `seller` publishes sales; `ledger` consumes them and publishes acks; `snoop` asks for the
sales too but may only subscribe to acks and publish nothing; `outsider` is outside the scoped
components (it has a token, so the sidecar knows who it is).
"""

import json
import secrets
import uuid
from pathlib import Path

import pytest
import yaml

from kugelpos.sidecar.components import Component
from kugelpos.sidecar.scopes import Scopes, TopicScopes

APPS = ("seller", "ledger", "snoop", "outsider")


def _component(name: str, ctype: str, metadata: dict[str, str], scopes=()) -> dict:
    doc = {
        "apiVersion": "dapr.io/v1alpha1",
        "kind": "Component",
        "metadata": {"name": name},
        "spec": {
            "type": ctype,
            "version": "v1",
            "metadata": [{"name": k, "value": v} for k, v in metadata.items()],
        },
    }
    if scopes:
        doc["scopes"] = list(scopes)
    return doc


@pytest.fixture(scope="module")
def topics() -> dict[str, str]:
    suffix = uuid.uuid4().hex[:8]
    return {name: f"{name}-{suffix}" for name in ("sales", "acks", "other")}


@pytest.fixture(scope="module")
def components(tmp_path_factory, topics) -> Path:
    directory = tmp_path_factory.mktemp("scoped-components")
    sales, acks = topics["sales"], topics["acks"]
    docs = {
        "pubsub": _component(
            "pubsub",
            "pubsub.redis",
            {
                "allowedTopics": f"{sales}, {acks}",
                "publishingScopes": f"seller={sales};ledger={acks};snoop=",
                "subscriptionScopes": f"ledger={sales};snoop={acks}",
            },
            scopes=("seller", "ledger", "snoop"),
        ),
        # Unscoped: the outsider has a pub/sub, just not the scoped one.
        "open": _component("open", "pubsub.redis", {}),
        "vault": _component("vault", "state.redis", {"keyPrefix": "name"}, scopes=("seller",)),
        "shared": _component("shared", "state.redis", {"keyPrefix": "name"}),
    }
    for name, doc in docs.items():
        (directory / f"{name}.yaml").write_text(yaml.safe_dump(doc))
    return directory


@pytest.fixture(scope="module")
def tokens() -> dict[str, str]:
    return {app: secrets.token_hex(32) for app in APPS}


@pytest.fixture(scope="module")
def env(shared_stack_builder, components, tokens, topics, fast_settings):
    stack = shared_stack_builder("scopes")
    sales, acks = topics["sales"], topics["acks"]
    ledger = stack.app("ledger", [{"pubsubname": "pubsub", "topic": sales, "route": "/sales"}])
    snoop = stack.app(
        "snoop",
        [
            {"pubsubname": "pubsub", "topic": sales, "route": "/sales"},
            {"pubsubname": "pubsub", "topic": acks, "route": "/acks"},
        ],
    )
    seller = stack.app("seller", [{"pubsubname": "pubsub", "topic": acks, "route": "/acks"}])
    for app in (ledger, snoop, seller):
        app.start()
    sidecar = stack.start_sidecar(
        fast_settings, env={"DAPR_API_TOKENS": json.dumps(tokens)}, components=components
    )
    # What each app may subscribe to is subscribed (seller is not named in subscriptionScopes,
    # so it may subscribe to any allowed topic).
    sidecar.wait_subscribed([("ledger", sales), ("snoop", acks), ("seller", acks)])
    clients = {app: sidecar.client(token) for app, token in tokens.items()}
    yield sidecar, clients, {"ledger": ledger, "snoop": snoop, "seller": seller}
    for client in clients.values():
        client.close()
    stack.stop()


def test_a_subscription_outside_the_scopes_is_not_made_and_gets_nothing(env, topics, redis_client):
    sidecar, clients, apps = env
    sales = topics["sales"]
    key = f"sale-{uuid.uuid4().hex[:8]}"
    assert (
        clients["seller"].post(f"/v1.0/publish/pubsub/{sales}", json={"key": key}).status_code
        == 204
    )
    apps["ledger"].wait_deliveries(key, 1, "/sales")
    subscribed = {
        (s["appID"], s["topic"]) for s in sidecar.http.get("/v1.0/metadata").json()["subscriptions"]
    }
    assert ("snoop", sales) not in subscribed
    groups = {g["name"].decode() for g in redis_client.xinfo_groups(sales)}
    assert "snoop" not in groups and "ledger" in groups
    assert apps["snoop"].deliveries(key) == []


@pytest.mark.parametrize(
    ("app", "topic"),
    [("ledger", "sales"), ("snoop", "acks"), ("snoop", "sales"), ("seller", "other")],
    ids=["consumer-publishes-a-sale", "empty-grant", "not-granted", "topic-not-allowed"],
)
def test_a_publish_outside_the_scopes_is_403_and_appends_nothing(
    env, topics, redis_client, app, topic
):
    _, clients, _ = env
    name = topics[topic]
    before = redis_client.xlen(name) if redis_client.exists(name) else 0
    response = clients[app].post(f"/v1.0/publish/pubsub/{name}", json={"key": "forged"})
    assert response.status_code == 403, response.text
    assert response.json() == {
        "errorCode": "ERR_PUBSUB_FORBIDDEN",
        "message": f"topic {name} is not allowed for app id {app}",
    }
    assert (redis_client.xlen(name) if redis_client.exists(name) else 0) == before


def test_a_granted_publish_of_each_app_goes_through(env, topics):
    _, clients, apps = env
    key = f"ack-{uuid.uuid4().hex[:8]}"
    response = clients["ledger"].post(f"/v1.0/publish/pubsub/{topics['acks']}", json={"key": key})
    assert response.status_code == 204, response.text
    apps["snoop"].wait_deliveries(key, 1, "/acks")


def test_an_app_outside_a_component_scope_does_not_have_it(env, topics, redis_client):
    _, clients, _ = env
    outsider = clients["outsider"]
    sales = topics["sales"]
    before = redis_client.xlen(sales)
    response = outsider.post(f"/v1.0/publish/pubsub/{sales}", json={"key": "forged"})
    assert response.status_code == 404
    assert response.json()["errorCode"] == "ERR_PUBSUB_NOT_FOUND"
    assert redis_client.xlen(sales) == before
    # Its own, unscoped pub/sub works: the refusal is the scope's.
    assert outsider.post(f"/v1.0/publish/open/{topics['other']}", json={}).status_code == 204


def test_a_state_store_outside_its_scope_is_not_found_and_untouched(env, redis_client):
    _, clients, _ = env
    key = f"secret-{uuid.uuid4().hex[:8]}"
    seller = clients["seller"]
    assert (
        seller.post("/v1.0/state/vault", json=[{"key": key, "value": {"v": 1}}]).status_code == 204
    )
    for app in ("ledger", "outsider"):
        other = clients[app]
        refusals = [
            other.get(f"/v1.0/state/vault/{key}"),
            other.delete(f"/v1.0/state/vault/{key}"),
            other.post("/v1.0/state/vault", json=[{"key": key, "value": "forged"}]),
            other.post("/v1.0/state/vault/bulk", json={"keys": [key]}),
            other.post(
                "/v1.0/state/vault/transaction",
                json={"operations": [{"operation": "delete", "request": {"key": key}}]},
            ),
        ]
        for response in refusals:
            assert response.status_code == 400, response.text
            assert response.json() == {
                "errorCode": "ERR_STATE_STORE_NOT_FOUND",
                "message": "state store vault is not found",
            }
        # An unscoped store is there for everyone.
        assert other.get(f"/v1.0/state/shared/{key}").status_code == 204
    read = seller.get(f"/v1.0/state/vault/{key}")
    assert read.status_code == 200 and read.json() == {"v": 1}
    assert redis_client.hget(f"vault||{key}", "version") == b"1"


def test_an_app_with_no_state_store_at_all_is_told_none_is_configured(
    tmp_path, make_stack, fast_settings
):
    directory = tmp_path / "components"
    directory.mkdir()
    doc = _component("vault", "state.redis", {}, scopes=("seller",))
    (directory / "vault.yaml").write_text(yaml.safe_dump(doc))
    stack = make_stack()
    token = secrets.token_hex(32)
    sidecar = stack.start_sidecar(
        fast_settings,
        env={"DAPR_API_TOKENS": json.dumps({"other": token, "seller": secrets.token_hex(32)})},
        components=directory,
    )
    with sidecar.client(token) as other:
        response = other.get("/v1.0/state/vault/k")
    assert response.status_code == 500
    assert response.json()["errorCode"] == "ERR_STATE_STORES_NOT_CONFIGURED"


# ---- the rules themselves (one function each, no process) -------------------------------------


def _rules(**metadata: str) -> TopicScopes:
    return TopicScopes.of(Component(name="p", type="pubsub.redis", metadata=metadata))


def test_topic_rules_as_daprd_reads_them():
    rules = _rules(
        allowedTopics="a, b, c",
        publishingScopes="app1=a;app2=b,c;app3=;app1=b",
        protectedTopics="c",
    )
    assert rules.may_publish("app1", "a") and rules.may_publish("app1", "b")  # union
    assert not rules.may_publish("app1", "c")
    assert rules.may_publish("app2", "c")  # protected, but granted
    assert not rules.may_publish("app3", "a")  # `app3=` grants nothing
    assert rules.may_publish("unlisted", "a")  # not listed: any allowed, unprotected topic
    assert not rules.may_publish("unlisted", "c")  # protected: needs a grant
    assert not rules.may_publish("app2", "d")  # not allowed for anyone
    # No subscriptionScopes at all: subscriptions limited only by allowedTopics.
    assert rules.may_subscribe("app3", "a") and not rules.may_subscribe("app3", "d")
    assert not rules.may_subscribe("app3", "c")


def test_no_topic_rules_allow_everything():
    rules = _rules()
    assert rules.may_publish("anyone", "anything") and rules.may_subscribe("anyone", "x")


def test_component_scopes():
    scoped = Component(name="s", type="state.redis", scopes=("cart",))
    scopes = Scopes([scoped, Component(name="o", type="state.redis")])
    assert scopes.visible("s", "cart") and not scopes.visible("s", "stock")
    assert scopes.visible("o", "stock") and not scopes.visible("missing", "cart")
    assert scopes.any_visible("state", "stock") and not scopes.any_visible("pubsub", "cart")
