"""Health, metadata and the command line."""

import subprocess
import sys

import pytest

from kugelpos.sidecar.cli import parse_settings


@pytest.fixture(scope="module")
def stack(shared_stack_builder):
    stack = shared_stack_builder("runtime")
    app = stack.app("alpha", [{"pubsubname": "pubsub", "topic": "runtime-t", "route": "/t"}])
    app.start()
    stack.start_sidecar()
    stack.sidecar.wait_subscribed([("alpha", "runtime-t")])
    yield stack
    stack.stop()


def test_healthz_is_204(stack):
    assert stack.sidecar.http.get("/v1.0/healthz").status_code == 204
    assert stack.sidecar.http.get("/v1.0/healthz/outbound").status_code == 204


def test_metadata_lists_components_and_subscriptions(stack):
    metadata = stack.sidecar.http.get("/v1.0/metadata").json()
    assert metadata["id"]
    assert metadata["runtimeVersion"]
    components = {c["name"]: c for c in metadata["components"]}
    assert components["pubsub"]["type"] == "pubsub.redis"
    for store in ("cartstore", "terminalstore", "statestore"):
        assert components[store]["type"] == "state.redis"
        assert components[store]["version"] == "v1"
        assert "ETAG" in components[store]["capabilities"]
    (sub,) = [s for s in metadata["subscriptions"] if s["topic"] == "runtime-t"]
    assert sub["pubsubname"] == "pubsub"
    assert sub["appID"] == "alpha"
    assert sub["rules"] == [{"match": "", "path": "/t"}]
    assert metadata["apps"] == [{"id": "alpha", "url": stack.apps["alpha"].url, "reachable": True}]


def test_cli_parses_apps_and_overrides():
    settings = parse_settings(
        [
            "--port=3600",
            "--redis-url=redis://127.0.0.1:1/2",
            "--app",
            "account=http://127.0.0.1:8000",
            "--app",
            "terminal=http://127.0.0.1:8001/",
            "--redeliver-interval=0.5",
        ]
    )
    assert settings.port == 3600
    assert settings.host == "127.0.0.1"
    assert settings.redis_url == "redis://127.0.0.1:1/2"
    assert [(a.app_id, a.base_url) for a in settings.apps] == [
        ("account", "http://127.0.0.1:8000"),
        ("terminal", "http://127.0.0.1:8001"),
    ]
    assert settings.redeliver_interval == 0.5


# Starts the sidecar as a process of its own (it exits at once): not a test-fast test.
@pytest.mark.needs_stack
@pytest.mark.parametrize("app", ["account", "account=localhost:8000", "=http://x"])
def test_cli_rejects_a_malformed_app(app):
    result = subprocess.run(
        [sys.executable, "-m", "kugelpos.sidecar", "--app", app],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2
    assert "APP_ID=http" in result.stderr
