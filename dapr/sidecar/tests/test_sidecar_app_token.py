"""Dapr's app API token: with APP_API_TOKEN set, the sidecar sends `dapr-api-token` on every
call to an app (subscription discovery, deliveries, invocations), so an app can refuse any
caller that is not its sidecar. Without it, no such header is sent."""

import uuid

import pytest

TOKEN = "app-token-" + uuid.uuid4().hex


@pytest.fixture
def topic() -> str:
    return f"token-{uuid.uuid4().hex[:8]}"


def test_token_is_sent_on_discovery_delivery_and_invoke(make_stack, topic, fast_settings):
    stack = make_stack()
    # This app declares its subscriptions only to a caller presenting the token.
    app = stack.app(
        "guarded", [{"pubsubname": "pubsub", "topic": topic, "route": "/in"}], app_token=TOKEN
    )
    app.start()
    sidecar = stack.start_sidecar(fast_settings, env={"APP_API_TOKEN": TOKEN})
    sidecar.wait_subscribed([("guarded", topic)])
    assert sidecar.publish(topic, {"key": "k1"}).status_code == 204
    (delivery,) = app.wait_deliveries("k1", 1, "/in")
    assert delivery["api_token"] == TOKEN
    echoed = sidecar.http.get(
        "/v1.0/invoke/guarded/method/echo/x", headers={"dapr-api-token": "callers-own-token"}
    ).json()
    # The app's token, never the caller's token for its own sidecar.
    assert echoed["headers"]["dapr-api-token"] == TOKEN


def test_no_token_configured_sends_no_header(make_stack, topic, fast_settings):
    stack = make_stack()
    app = stack.app("open", [{"pubsubname": "pubsub", "topic": topic, "route": "/in"}])
    app.start()
    sidecar = stack.start_sidecar(fast_settings, env={"APP_API_TOKEN": ""})
    sidecar.wait_subscribed([("open", topic)])
    assert sidecar.publish(topic, {"key": "k2"}).status_code == 204
    (delivery,) = app.wait_deliveries("k2", 1, "/in")
    assert delivery["api_token"] is None
    echoed = sidecar.http.get("/v1.0/invoke/open/method/echo/x").json()
    assert "dapr-api-token" not in echoed["headers"]
