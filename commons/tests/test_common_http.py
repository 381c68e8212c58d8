"""HttpClientHelper over `httpx.MockTransport`: retries, backoff, breaker per target, and the
correlation id."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from types import SimpleNamespace

import httpx
import pytest

from kugelpos.common.clients import http as http_module
from kugelpos.common.clients.breaker import BreakerRegistry, BreakerState
from kugelpos.common.clients.http import HttpClientHelper
from kugelpos.common.errors import ExternalServiceError, ServiceUnavailableError
from kugelpos.common.observability.context import reset_request_id, set_request_id

type Handler = Callable[[httpx.Request], httpx.Response]


class Recorder:
    """A MockTransport handler that answers from a script and records every request."""

    def __init__(self, *script: httpx.Response | type[Exception] | Exception) -> None:
        self.script = list(script)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        step = self.script.pop(0) if len(self.script) > 1 else self.script[0]
        if isinstance(step, type) and issubclass(step, Exception):
            raise step("scripted failure", request=request)
        if isinstance(step, Exception):
            raise step
        return step


def _helper(handler: Handler, **kwargs) -> HttpClientHelper:
    kwargs.setdefault("backoff", 0.001)
    return HttpClientHelper(transport=httpx.MockTransport(handler), **kwargs)


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Record the backoff delays instead of sleeping them."""
    recorded: list[float] = []
    real_sleep = asyncio.sleep

    async def fake_sleep(delay: float) -> None:
        recorded.append(delay)
        await real_sleep(0)

    # Only the helper's view of asyncio is replaced, not the event loop's.
    monkeypatch.setattr(http_module, "asyncio", SimpleNamespace(sleep=fake_sleep))
    return recorded


async def test_success_first_try(sleeps) -> None:
    recorder = Recorder(httpx.Response(200, json={"ok": True}))
    helper = _helper(recorder)
    response = await helper.get("http://svc-a:8000/api/v1/x", params={"q": "1"})
    assert response.json() == {"ok": True}
    assert len(recorder.requests) == 1
    assert recorder.requests[0].url.params["q"] == "1"
    assert recorder.requests[0].headers["Accept"] == "application/json"
    assert sleeps == []
    await helper.aclose()


async def test_retries_connect_errors_with_exponential_backoff(sleeps) -> None:
    recorder = Recorder(httpx.ConnectError, httpx.ConnectError, httpx.Response(200, json=[1]))
    helper = _helper(recorder, backoff=0.01)
    response = await helper.post("http://svc-a:8000/x", json={"a": 1})
    assert response.status_code == 200
    assert len(recorder.requests) == 3
    assert sleeps == [0.01, 0.02]
    assert recorder.requests[2].content == b'{"a":1}'


async def test_connect_errors_exhausted_raise_unavailable(sleeps) -> None:
    recorder = Recorder(httpx.ConnectError)
    helper = _helper(recorder)
    with pytest.raises(ServiceUnavailableError, match="ConnectError calling http://svc-a:8000"):
        await helper.get("http://svc-a:8000/x")
    assert len(recorder.requests) == 3
    assert len(sleeps) == 2  # no sleep after the last attempt


async def test_retries_5xx_then_succeeds(sleeps) -> None:
    recorder = Recorder(httpx.Response(503), httpx.Response(502), httpx.Response(201, json={}))
    helper = _helper(recorder)
    response = await helper.post("http://svc-a:8000/x", json={})
    assert response.status_code == 201
    assert len(recorder.requests) == 3


async def test_persistent_5xx_raises_external_error(sleeps) -> None:
    recorder = Recorder(httpx.Response(500, text="internal details"))
    helper = _helper(recorder)
    with pytest.raises(ExternalServiceError) as info:
        await helper.get("http://svc-a:8000/x")
    assert info.value.details == {"status": 500}
    assert "internal details" not in info.value.message
    assert len(recorder.requests) == 3


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 422, 429])
async def test_4xx_returned_without_retry(sleeps, status: int) -> None:
    recorder = Recorder(httpx.Response(status, json={"code": "x"}))
    helper = _helper(recorder)
    response = await helper.get("http://svc-a:8000/x")
    assert response.status_code == status
    assert len(recorder.requests) == 1
    assert sleeps == []
    assert helper.breakers.for_target("http://svc-a:8000").state is BreakerState.CLOSED


@pytest.mark.parametrize("error", [httpx.ReadTimeout, httpx.WriteTimeout, httpx.ReadError])
async def test_read_side_failures_not_retried(sleeps, error: type[Exception]) -> None:
    recorder = Recorder(error, httpx.Response(200))
    helper = _helper(recorder)
    with pytest.raises(ServiceUnavailableError, match=error.__name__):
        await helper.post("http://svc-a:8000/x", json={"pay": 100})
    assert len(recorder.requests) == 1
    assert sleeps == []


async def test_retry_false_means_one_attempt(sleeps) -> None:
    recorder = Recorder(httpx.ConnectError, httpx.Response(200))
    helper = _helper(recorder)
    with pytest.raises(ServiceUnavailableError):
        await helper.request("POST", "http://svc-a:8000/x", json={}, retry=False)
    assert len(recorder.requests) == 1


async def test_circuit_opens_per_target(sleeps) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.host == "down":
            raise httpx.ConnectError("refused", request=request)
        return httpx.Response(200, json={"host": request.url.host})

    calls: list[str] = []

    def counting(request: httpx.Request) -> httpx.Response:
        calls.append(request.url.host)
        return handler(request)

    helper = _helper(counting)
    with pytest.raises(ServiceUnavailableError):
        await helper.get("http://down:8000/x")
    assert calls.count("down") == 3
    assert helper.breakers.for_target("http://down:8000").state is BreakerState.OPEN
    # open: refused without touching the network
    with pytest.raises(ServiceUnavailableError, match="Circuit open"):
        await helper.get("http://down:8000/y")
    assert calls.count("down") == 3
    # another target is unaffected
    response = await helper.get("http://up:8000/x")
    assert response.json() == {"host": "up"}
    # same host, other port: another target
    assert (await helper.get("http://down2:9000/x")).status_code == 200


async def test_failures_across_calls_open_the_circuit(sleeps) -> None:
    recorder = Recorder(httpx.Response(500))
    helper = _helper(recorder, max_attempts=1)
    for _ in range(3):
        with pytest.raises(ExternalServiceError):
            await helper.get("http://svc-a:8000/x")
    with pytest.raises(ServiceUnavailableError, match="Circuit open"):
        await helper.get("http://svc-a:8000/x")
    assert len(recorder.requests) == 3


async def test_half_open_trial_through_helper(sleeps) -> None:
    registry = BreakerRegistry(failure_threshold=1, reset_timeout=0.0)
    recorder = Recorder(httpx.Response(500), httpx.Response(200))
    helper = _helper(recorder, max_attempts=1, breakers=registry)
    with pytest.raises(ExternalServiceError):
        await helper.get("http://svc-a:8000/x")
    # reset timeout 0: the next call is the half-open trial, and its success closes
    assert (await helper.get("http://svc-a:8000/x")).status_code == 200
    assert registry.for_target("http://svc-a:8000").state is BreakerState.CLOSED


async def test_cancelled_trial_does_not_wedge_the_breaker(sleeps) -> None:
    registry = BreakerRegistry(failure_threshold=1, reset_timeout=0.0)
    state = {"mode": "fail"}

    async def handler(request: httpx.Request) -> httpx.Response:
        if state["mode"] == "fail":
            return httpx.Response(500)
        if state["mode"] == "hang":
            await asyncio.Event().wait()  # never answers
        return httpx.Response(200)

    helper = HttpClientHelper(
        transport=httpx.MockTransport(handler), max_attempts=1, breakers=registry, backoff=0
    )
    with pytest.raises(ExternalServiceError):
        await helper.get("http://svc-a:8000/x")
    state["mode"] = "hang"
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(helper.get("http://svc-a:8000/x"), 0.05)
    state["mode"] = "ok"
    assert (await helper.get("http://svc-a:8000/x")).status_code == 200


async def test_local_error_does_not_wedge_the_breaker(sleeps) -> None:
    registry = BreakerRegistry(failure_threshold=1, reset_timeout=0.0)
    recorder = Recorder(httpx.Response(500), httpx.Response(200))
    helper = _helper(recorder, max_attempts=1, breakers=registry)
    with pytest.raises(ExternalServiceError):
        await helper.get("http://svc-a:8000/x")
    with pytest.raises(TypeError):
        await helper.post("http://svc-a:8000/x", json={"not": object()})
    assert (await helper.get("http://svc-a:8000/x")).status_code == 200


async def test_request_id_forwarded(sleeps) -> None:
    recorder = Recorder(httpx.Response(200))
    helper = _helper(recorder)
    token = set_request_id("rid-forward-1")
    try:
        await helper.get("http://svc-a:8000/x")
        await helper.get("http://svc-a:8000/x", headers={"X-Request-ID": "explicit"})
    finally:
        reset_request_id(token)
    await helper.get("http://svc-a:8000/x")
    first, second, third = recorder.requests
    assert first.headers["X-Request-ID"] == "rid-forward-1"
    assert second.headers["X-Request-ID"] == "explicit"
    assert "X-Request-ID" not in third.headers


async def test_caller_headers_kept(sleeps) -> None:
    recorder = Recorder(httpx.Response(200))
    helper = _helper(recorder)
    await helper.get("http://svc-a:8000/x", headers={"Authorization": "Bearer t", "X-API-KEY": "k"})
    sent = recorder.requests[0].headers
    assert sent["Authorization"] == "Bearer t"
    assert sent["X-API-KEY"] == "k"


async def test_real_backoff_is_short(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without the sleep stub: tiny backoff keeps three attempts fast."""
    recorder = Recorder(httpx.ConnectError)
    helper = _helper(recorder, backoff=0.001)
    loop = asyncio.get_running_loop()
    started = loop.time()
    with pytest.raises(ServiceUnavailableError):
        await helper.get("http://svc-a:8000/x")
    assert len(recorder.requests) == 3
    assert loop.time() - started < 1.0
