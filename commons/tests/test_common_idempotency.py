"""Idempotency-Key: the first response is replayed, nothing runs twice, keys are per caller,
a concurrent duplicate is 409, a failed request can be retried, and a down store refuses."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import APIRouter, Body, Response

from kugelpos.common.auth.principal import Principal, PrincipalKind
from kugelpos.common.auth.tokens import TERMINAL_ISSUER, TokenCodec
from kugelpos.common.clients.breaker import BreakerRegistry
from kugelpos.common.clients.dapr import DaprClientHelper
from kugelpos.common.clients.http import HttpClientHelper
from kugelpos.common.errors import AuthenticationError, BadRequestError
from kugelpos.common.idempotency import (
    DaprIdempotencyStore,
    MemoryIdempotencyStore,
    fingerprint,
)

from .conftest import TEST_SECRET

HOUR = timedelta(hours=1)


class Counter:
    def __init__(self) -> None:
        self.calls = 0
        self.gate: asyncio.Event | None = None
        self.fail_with: Exception | None = None
        self.started = asyncio.Event()


def _router(counter: Counter) -> APIRouter:
    router = APIRouter()

    @router.post("/things", status_code=201)
    async def create(response: Response, body: dict[str, Any] = Body(...)) -> dict[str, Any]:
        counter.calls += 1
        counter.started.set()
        if counter.gate is not None:
            await counter.gate.wait()
        if counter.fail_with is not None:
            raise counter.fail_with
        response.headers["X-New-Token"] = "tok"
        return {"n": counter.calls, "echo": body}

    @router.get("/things")
    async def read() -> dict[str, int]:
        counter.calls += 1
        return {"n": counter.calls}

    return router


def _token(tenant: str, terminal: str | None = None) -> dict[str, str]:
    codec = TokenCodec(TEST_SECRET)
    claims: dict[str, Any] = {"sub": "someone", "tenant_id": tenant}
    if terminal:
        claims |= {
            "sub": f"terminal:{terminal}",
            "token_type": "terminal",
            "terminal_id": terminal,
            "iss": TERMINAL_ISSUER,
        }
    return {"Authorization": f"Bearer {codec.encode(claims, HOUR)}"}


@pytest.fixture
def counter() -> Counter:
    return Counter()


@pytest.fixture
def store() -> MemoryIdempotencyStore:
    return MemoryIdempotencyStore()


@pytest.fixture
def client(make_app, client_for, counter, store) -> httpx.AsyncClient:
    app = make_app([_router(counter)], idempotency_store=store)

    async def api_key(terminal_id: str, api_key: str) -> Principal:
        if api_key != "good-key":
            raise AuthenticationError("Invalid API key")
        return Principal(
            kind=PrincipalKind.TERMINAL,
            subject=f"terminal:{terminal_id}",
            tenant_id=terminal_id.split("-")[0],
            terminal_id=terminal_id,
        )

    app.state.auth.terminals = api_key
    return client_for(app)


T1 = _token("T1", "T1-S1-1")


async def test_same_key_replays_the_first_response_and_runs_once(client, counter):
    headers = T1 | {"Idempotency-Key": "k-1"}
    first = await client.post("/things", json={"a": 1}, headers=headers)
    again = await client.post("/things", json={"a": 1}, headers=headers)
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json() == {"n": 1, "echo": {"a": 1}}
    assert counter.calls == 1
    assert again.headers["idempotent-replayed"] == "true"
    assert again.headers["x-new-token"] == "tok"
    assert "idempotent-replayed" not in first.headers


async def test_without_key_every_request_runs(client, counter):
    await client.post("/things", json={}, headers=T1)
    await client.post("/things", json={}, headers=T1)
    assert counter.calls == 2


async def test_other_methods_are_untouched(client, counter):
    headers = T1 | {"Idempotency-Key": "k-get"}
    await client.get("/things", headers=headers)
    await client.get("/things", headers=headers)
    assert counter.calls == 2


async def test_keys_are_scoped_by_caller(client, counter):
    key = {"Idempotency-Key": "shared"}
    a = await client.post("/things", json={}, headers=T1 | key)
    b = await client.post("/things", json={}, headers=_token("T1", "T1-S1-2") | key)
    c = await client.post("/things", json={}, headers=_token("T2", "T2-S1-1") | key)
    assert [r.json()["n"] for r in (a, b, c)] == [1, 2, 3]


async def test_api_key_callers_are_scoped_by_their_terminal(client, counter):
    key = {"X-API-KEY": "good-key", "Idempotency-Key": "k"}
    a = await client.post("/things?terminal_id=T1-S1-1", json={}, headers=key)
    b = await client.post("/things?terminal_id=T1-S1-1", json={}, headers=key)
    c = await client.post("/things?terminal_id=T1-S1-2", json={}, headers=key)
    assert [r.json()["n"] for r in (a, b, c)] == [1, 1, 2]


async def test_unverifiable_caller_gets_no_idempotency(client, counter):
    bad = {"X-API-KEY": "wrong", "Idempotency-Key": "k"}
    await client.post("/things?terminal_id=T1-S1-1", json={}, headers=bad)
    await client.post("/things?terminal_id=T1-S1-1", json={}, headers=bad)
    assert counter.calls == 2  # the route itself decides (no auth dependency here)


async def test_api_key_with_the_terminal_in_the_path_is_scoped_by_the_key(client, counter):
    key = {"Idempotency-Key": "k-path"}
    a = await client.post("/things", json={}, headers=key | {"X-API-KEY": "key-of-till-1"})
    b = await client.post("/things", json={}, headers=key | {"X-API-KEY": "key-of-till-1"})
    c = await client.post("/things", json={}, headers=key | {"X-API-KEY": "key-of-till-2"})
    assert [r.json()["n"] for r in (a, b, c)] == [1, 1, 2]
    assert b.headers["idempotent-replayed"] == "true"


async def test_same_key_different_request_is_refused(client, counter):
    headers = T1 | {"Idempotency-Key": "k-2"}
    assert (await client.post("/things", json={"a": 1}, headers=headers)).status_code == 201
    other = await client.post("/things", json={"a": 2}, headers=headers)
    assert other.status_code == 422
    assert other.json()["code"] == "300001"
    assert counter.calls == 1


async def test_concurrent_duplicate_is_409_while_the_first_is_in_flight(client, counter):
    counter.gate = asyncio.Event()
    headers = T1 | {"Idempotency-Key": "k-3"}
    first = asyncio.create_task(client.post("/things", json={}, headers=headers))
    await counter.started.wait()
    second = await client.post("/things", json={}, headers=headers)
    assert second.status_code == 409
    body = second.json()
    assert body["success"] is False and body["code"] == "500009"
    counter.gate.set()
    assert (await first).status_code == 201
    third = await client.post("/things", json={}, headers=headers)
    assert third.status_code == 201 and third.json()["n"] == 1
    assert counter.calls == 1


async def test_a_failed_request_releases_the_key(client, counter):
    counter.fail_with = BadRequestError("nope")
    headers = T1 | {"Idempotency-Key": "k-4"}
    assert (await client.post("/things", json={}, headers=headers)).status_code == 400
    counter.fail_with = None
    retry = await client.post("/things", json={}, headers=headers)
    assert retry.status_code == 201 and retry.json()["n"] == 2


async def test_malformed_key_is_400(client, counter):
    r = await client.post("/things", json={}, headers=T1 | {"Idempotency-Key": "a b"})
    assert r.status_code == 400 and r.json()["code"] == "300003"
    assert counter.calls == 0


async def test_expired_records_free_the_key() -> None:
    now = [0.0]
    store = MemoryIdempotencyStore(clock=lambda: now[0])
    assert await store.claim("k", {"status": "in_flight"}, 10)
    assert not await store.claim("k", {"status": "in_flight"}, 10)
    now[0] = 11
    assert await store.claim("k", {"status": "in_flight"}, 10)


def test_fingerprint_separates_parts() -> None:
    assert fingerprint("POST", "/a", b"", b"bc") != fingerprint("POST", "/ab", b"", b"c")


# ---- the Dapr store, and what happens when the sidecar is down -------------------------------


class FakeStateStore:
    """Enough of the Dapr state API: first-write saves answer 409 when the key exists."""

    def __init__(self) -> None:
        self.data: dict[str, Any] = {}
        self.down = False
        self.ttls: dict[str, str] = {}

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if self.down:
            raise httpx.ConnectError("sidecar down")
        key = request.url.path.rsplit("/", 1)[-1]
        if request.method == "POST":
            import json

            (item,) = json.loads(request.content)
            first = (item.get("options") or {}).get("concurrency") == "first-write"
            if first and item["key"] in self.data:
                return httpx.Response(409)
            self.data[item["key"]] = item["value"]
            self.ttls[item["key"]] = item.get("metadata", {}).get("ttlInSeconds")
            return httpx.Response(204)
        if request.method == "GET":
            if key not in self.data:
                return httpx.Response(204)
            return httpx.Response(200, json=self.data[key], headers={"etag": "1"})
        self.data.pop(key, None)
        return httpx.Response(204)


@pytest.fixture
def sidecar() -> FakeStateStore:
    return FakeStateStore()


@pytest.fixture
def dapr_client(make_app, client_for, counter, sidecar, settings) -> httpx.AsyncClient:
    http = HttpClientHelper(
        transport=httpx.MockTransport(sidecar),
        backoff=0.0,
        max_attempts=1,
        breakers=BreakerRegistry(failure_threshold=100),
    )
    dapr = DaprClientHelper(http, "http://127.0.0.1:3500")
    app = make_app(
        [_router(counter)],
        idempotency_store=DaprIdempotencyStore(dapr, "statestore"),
        settings=settings.model_copy(update={"idempotency_ttl_seconds": 600}),
    )
    return client_for(app)


async def test_dapr_store_keeps_records_with_a_ttl(dapr_client, counter, sidecar):
    headers = T1 | {"Idempotency-Key": "k-5"}
    first = await dapr_client.post("/things", json={}, headers=headers)
    again = await dapr_client.post("/things", json={}, headers=headers)
    assert first.json() == again.json() and counter.calls == 1
    (key,) = sidecar.data
    assert key == "idempotency:T1:T1-S1-1:k-5"
    assert sidecar.data[key]["status"] == "done"
    assert sidecar.ttls[key] == "600"


async def test_store_down_refuses_instead_of_running_unprotected(dapr_client, counter, sidecar):
    sidecar.down = True
    r = await dapr_client.post("/things", json={}, headers=T1 | {"Idempotency-Key": "k-6"})
    assert r.status_code == 503 and r.json()["code"] == "600002"
    assert counter.calls == 0
