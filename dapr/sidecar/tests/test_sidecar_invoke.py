"""Service invocation: /v1.0/invoke/{app-id}/method/{path} proxies to the app."""

import pytest


@pytest.fixture(scope="module")
def sidecar(shared_stack_builder):
    stack = shared_stack_builder("invoke")
    stack.app("echo", []).start()
    # An app that is declared but never started: invocation fails like an unreachable app.
    stack.app("absent", [])
    yield stack.start_sidecar()
    stack.stop()


def test_invoke_forwards_method_path_query_headers_and_body(sidecar):
    response = sidecar.http.put(
        "/v1.0/invoke/echo/method/echo/api/v1/items",
        params={"q": "x", "limit": "5"},
        headers={"X-Request-ID": "req-1", "Authorization": "Bearer t"},
        content=b'{"a": 1}',
    )
    assert response.status_code == 200
    echoed = response.json()
    assert echoed["app_id"] == "echo"
    assert echoed["method"] == "PUT"
    assert echoed["path"] == "api/v1/items"
    assert echoed["query"] == {"q": "x", "limit": "5"}
    assert echoed["headers"]["x-request-id"] == "req-1"
    assert echoed["headers"]["authorization"] == "Bearer t"
    assert echoed["body"] == '{"a": 1}'


def test_invoke_returns_the_app_status_headers_and_body(sidecar):
    response = sidecar.http.get("/v1.0/invoke/echo/method/status/418")
    assert response.status_code == 418
    assert response.headers["x-custom"] == "yes"
    assert response.content == b"status body"


def test_unknown_app_is_err_direct_invoke(sidecar):
    response = sidecar.http.get("/v1.0/invoke/nosuchapp/method/anything")
    assert response.status_code == 500
    body = response.json()
    assert body["errorCode"] == "ERR_DIRECT_INVOKE"
    assert "nosuchapp" in body["message"]


def test_unreachable_app_is_err_direct_invoke(sidecar):
    response = sidecar.http.get("/v1.0/invoke/absent/method/anything")
    assert response.status_code == 500
    assert response.json()["errorCode"] == "ERR_DIRECT_INVOKE"
