"""DaprClientHelper: the shapes of the Dapr HTTP API calls and how answers map to results."""

from __future__ import annotations

import json

import httpx
import pytest

from kugelpos.common.clients.breaker import BreakerRegistry
from kugelpos.common.clients.dapr import DaprClientHelper, DaprError, StateEntry, StateOperation
from kugelpos.common.clients.http import HttpClientHelper
from kugelpos.common.errors import ConflictError, ServiceUnavailableError

BASE = "http://127.0.0.1:3500/v1.0"


class FakeSidecar:
    """Records requests and answers with the next scripted response."""

    def __init__(self, *responses: httpx.Response) -> None:
        self.responses = list(responses) or [httpx.Response(204)]
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.responses.pop(0) if len(self.responses) > 1 else self.responses[0]

    @property
    def last(self) -> httpx.Request:
        return self.requests[-1]

    def body(self, index: int = -1):
        return json.loads(self.requests[index].content)


def _dapr(sidecar) -> DaprClientHelper:
    http = HttpClientHelper(
        transport=httpx.MockTransport(sidecar), backoff=0.0, breakers=BreakerRegistry()
    )
    return DaprClientHelper(http, "http://127.0.0.1:3500/")


async def test_publish_shape() -> None:
    sidecar = FakeSidecar(httpx.Response(204))
    dapr = _dapr(sidecar)
    event = {"event_id": "e-1", "amount": 100, "name": "現金"}
    await dapr.publish("pubsub-cashlog-report", "topic-cashlog", event)
    request = sidecar.last
    assert request.method == "POST"
    assert str(request.url) == f"{BASE}/publish/pubsub-cashlog-report/topic-cashlog"
    assert request.headers["content-type"] == "application/json"
    assert sidecar.body() == event


async def test_publish_metadata_as_query() -> None:
    sidecar = FakeSidecar(httpx.Response(204))
    dapr = _dapr(sidecar)
    await dapr.publish("ps", "t", {"a": 1}, metadata={"ttlInSeconds": "120", "rawPayload": "true"})
    params = sidecar.last.url.params
    assert params["metadata.ttlInSeconds"] == "120"
    assert params["metadata.rawPayload"] == "true"
    assert sidecar.last.url.path == "/v1.0/publish/ps/t"


async def test_publish_quotes_path_segments() -> None:
    sidecar = FakeSidecar(httpx.Response(204))
    await _dapr(sidecar).publish("ps", "a/b c", {})
    assert sidecar.last.url.raw_path == b"/v1.0/publish/ps/a%2Fb%20c"


@pytest.mark.parametrize("status", [400, 403, 404])
async def test_publish_4xx_is_dapr_error_without_retry(status: int) -> None:
    sidecar = FakeSidecar(httpx.Response(status, json={"errorCode": "ERR_PUBSUB_NOT_FOUND"}))
    with pytest.raises(DaprError, match=str(status)):
        await _dapr(sidecar).publish("nope", "t", {})
    assert len(sidecar.requests) == 1


async def test_publish_5xx_retried_then_dapr_error() -> None:
    sidecar = FakeSidecar(httpx.Response(500))
    with pytest.raises(DaprError) as info:
        await _dapr(sidecar).publish("ps", "t", {})
    assert len(sidecar.requests) == 3
    assert info.value.status_code == 503
    assert isinstance(info.value, ServiceUnavailableError)


async def test_sidecar_down_is_dapr_error() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    dapr = _dapr(refuse)
    with pytest.raises(DaprError):
        await dapr.publish("ps", "t", {})
    # the circuit is now open: still a DaprError, never an unrelated type
    with pytest.raises(DaprError, match="Circuit open"):
        await dapr.get_state("statestore", "k")


async def test_save_state_plain() -> None:
    sidecar = FakeSidecar(httpx.Response(204))
    await _dapr(sidecar).save_state("cartstore", "cart-1", {"lines": [1, 2]})
    assert sidecar.last.method == "POST"
    assert str(sidecar.last.url) == f"{BASE}/state/cartstore"
    assert sidecar.body() == [{"key": "cart-1", "value": {"lines": [1, 2]}}]


async def test_save_state_with_etag_and_ttl() -> None:
    sidecar = FakeSidecar(httpx.Response(204))
    await _dapr(sidecar).save_state("cartstore", "cart-1", "v", etag="7", ttl_seconds=3600)
    assert sidecar.body() == [
        {
            "key": "cart-1",
            "value": "v",
            "etag": "7",
            "metadata": {"ttlInSeconds": "3600"},
            "options": {"concurrency": "first-write"},
        }
    ]
    assert isinstance(sidecar.body()[0]["metadata"]["ttlInSeconds"], str)


async def test_save_state_first_write_without_etag() -> None:
    sidecar = FakeSidecar(httpx.Response(204))
    await _dapr(sidecar).save_state("s", "k", 1, first_write=True)
    assert sidecar.body()[0]["options"] == {"concurrency": "first-write"}
    assert "etag" not in sidecar.body()[0]


async def test_conditional_save_is_not_retried() -> None:
    sidecar = FakeSidecar(httpx.Response(500))
    with pytest.raises(DaprError):
        await _dapr(sidecar).save_state("s", "k", 1, etag="3")
    assert len(sidecar.requests) == 1
    sidecar = FakeSidecar(httpx.Response(500))
    with pytest.raises(DaprError):
        await _dapr(sidecar).save_state("s", "k", 1, first_write=True)
    assert len(sidecar.requests) == 1


async def test_unconditional_save_is_retried() -> None:
    sidecar = FakeSidecar(httpx.Response(503), httpx.Response(204))
    await _dapr(sidecar).save_state("s", "k", 1)
    assert len(sidecar.requests) == 2


async def test_save_conflict() -> None:
    sidecar = FakeSidecar(httpx.Response(409, json={"errorCode": "ERR_STATE_SAVE"}))
    with pytest.raises(ConflictError) as info:
        await _dapr(sidecar).save_state("s", "k", 1, etag="1")
    assert info.value.status_code == 409
    assert info.value.error_code == "500009"


async def test_get_state_value_and_etag() -> None:
    sidecar = FakeSidecar(httpx.Response(200, json={"total": 5}, headers={"ETag": "12"}))
    entry = await _dapr(sidecar).get_state("terminalstore", "term/1")
    assert entry == StateEntry(key="term/1", value={"total": 5}, etag="12")
    assert sidecar.last.method == "GET"
    assert sidecar.last.url.raw_path == b"/v1.0/state/terminalstore/term%2F1"


async def test_get_state_text_value() -> None:
    sidecar = FakeSidecar(httpx.Response(200, content=b"plain text"))
    entry = await _dapr(sidecar).get_state("s", "k")
    assert entry is not None and entry.value == "plain text" and entry.etag is None


@pytest.mark.parametrize("status", [204, 404])
async def test_get_state_missing_is_none(status: int) -> None:
    sidecar = FakeSidecar(httpx.Response(status))
    assert await _dapr(sidecar).get_state("s", "k") is None


async def test_get_state_error() -> None:
    with pytest.raises(DaprError):
        await _dapr(FakeSidecar(httpx.Response(400))).get_state("nostore", "k")
    with pytest.raises(DaprError):
        await _dapr(FakeSidecar(httpx.Response(500))).get_state("s", "k")


async def test_delete_state_with_if_match() -> None:
    sidecar = FakeSidecar(httpx.Response(204))
    dapr = _dapr(sidecar)
    await dapr.delete_state("s", "k", etag="9")
    assert sidecar.last.method == "DELETE"
    assert str(sidecar.last.url) == f"{BASE}/state/s/k"
    assert sidecar.last.headers["If-Match"] == "9"
    await dapr.delete_state("s", "k")
    assert "If-Match" not in sidecar.last.headers


async def test_delete_state_conflict() -> None:
    with pytest.raises(ConflictError):
        await _dapr(FakeSidecar(httpx.Response(409))).delete_state("s", "k", etag="1")


async def test_bulk_get() -> None:
    sidecar = FakeSidecar(
        httpx.Response(
            200,
            json=[
                {"key": "a", "data": {"n": 1}, "etag": "1"},
                {"key": "b"},
                {"key": "c", "data": 0, "etag": "3"},
            ],
        )
    )
    found = await _dapr(sidecar).get_bulk_state("s", ["a", "b", "c"])
    assert str(sidecar.last.url) == f"{BASE}/state/s/bulk"
    assert sidecar.body() == {"keys": ["a", "b", "c"], "parallelism": 10}
    assert found == {
        "a": StateEntry("a", {"n": 1}, "1"),
        "c": StateEntry("c", 0, "3"),
    }


async def test_transaction_shape_and_no_retry() -> None:
    sidecar = FakeSidecar(httpx.Response(204))
    dapr = _dapr(sidecar)
    await dapr.transact_state(
        "s",
        [
            StateOperation("upsert", "k1", {"v": 1}, ttl_seconds=60),
            StateOperation("delete", "k2", etag="4"),
        ],
    )
    assert str(sidecar.last.url) == f"{BASE}/state/s/transaction"
    assert sidecar.body() == {
        "operations": [
            {
                "operation": "upsert",
                "request": {"key": "k1", "value": {"v": 1}, "metadata": {"ttlInSeconds": "60"}},
            },
            {"operation": "delete", "request": {"key": "k2", "etag": "4"}},
        ]
    }
    failing = FakeSidecar(httpx.Response(500))
    with pytest.raises(DaprError):
        await _dapr(failing).transact_state("s", [StateOperation("delete", "k")])
    assert len(failing.requests) == 1


async def test_transaction_conflict() -> None:
    with pytest.raises(ConflictError):
        await _dapr(FakeSidecar(httpx.Response(409))).transact_state(
            "s", [StateOperation("upsert", "k", 1, etag="1")]
        )


async def test_healthz() -> None:
    assert await _dapr(FakeSidecar(httpx.Response(204))).healthz() is True
    sidecar = FakeSidecar(httpx.Response(200))
    assert await _dapr(sidecar).healthz() is False
    assert str(sidecar.last.url) == f"{BASE}/healthz"


# ---- Dapr API token (DAPR_API_TOKEN) ------------------------------------------------------------


def _dapr_with_token(sidecar, token: str | None, app_id: str | None = "cart") -> DaprClientHelper:
    http = HttpClientHelper(
        transport=httpx.MockTransport(sidecar), backoff=0.0, breakers=BreakerRegistry()
    )
    return DaprClientHelper(http, "http://127.0.0.1:3500/", app_id, api_token=token)


async def _every_call(dapr: DaprClientHelper) -> None:
    await dapr.publish("pubsub", "t", {"a": 1})
    await dapr.get_state("s", "k")
    await dapr.save_state("s", "k", 1)
    await dapr.delete_state("s", "k", etag="3")
    await dapr.get_bulk_state("s", ["k"])
    await dapr.transact_state("s", [StateOperation("delete", "k")])
    await dapr.healthz()


async def test_the_api_token_goes_on_every_call_to_the_sidecar() -> None:
    token = "d" * 40
    sidecar = FakeSidecar(httpx.Response(204))
    sidecar.responses = (
        [httpx.Response(204)] * 4 + [httpx.Response(200, json=[])] + [httpx.Response(204)] * 2
    )
    await _every_call(_dapr_with_token(sidecar, token))
    assert len(sidecar.requests) == 7
    assert all(r.headers["dapr-api-token"] == token for r in sidecar.requests)
    # The per-call headers are kept beside it.
    assert sidecar.requests[0].headers["dapr-app-id"] == "cart"
    assert sidecar.requests[3].headers["if-match"] == "3"


async def test_no_token_configured_sends_no_token_header() -> None:
    sidecar = FakeSidecar(httpx.Response(204))
    sidecar.responses = (
        [httpx.Response(204)] * 4 + [httpx.Response(200, json=[])] + [httpx.Response(204)] * 2
    )
    await _every_call(_dapr_with_token(sidecar, None, app_id=None))
    assert all("dapr-api-token" not in r.headers for r in sidecar.requests)
    assert "dapr-app-id" not in sidecar.requests[0].headers


async def test_a_refused_token_is_a_dapr_error_that_says_so_without_the_token() -> None:
    token = "secret-" + "d" * 40
    sidecar = FakeSidecar(httpx.Response(401, text="invalid api token\n"))
    dapr = _dapr_with_token(sidecar, token)
    with pytest.raises(DaprError) as raised:
        await dapr.publish("pubsub", "t", {})
    assert "DAPR_API_TOKEN" in raised.value.message and token not in raised.value.message
    with pytest.raises(DaprError):
        await dapr.get_state("s", "k")
    assert len(sidecar.requests) == 2  # a refusal is not retried
