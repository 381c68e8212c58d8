"""API keys verified by the terminal service (httpx.MockTransport stands in for it)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable

import httpx
import pytest
from fastapi import APIRouter

from kugelpos.common.auth.dependencies import CurrentPrincipal
from kugelpos.common.auth.principal import Principal, PrincipalKind
from kugelpos.common.auth.remote_terminal import (
    RemoteTerminalResolver,
    key_version_of,
    remote_terminal_resolver,
)
from kugelpos.common.cache import TTLCache
from kugelpos.common.clients.breaker import BreakerRegistry
from kugelpos.common.clients.http import HttpClientHelper
from kugelpos.common.errors import (
    AuthenticationError,
    ExternalServiceError,
    ServiceUnavailableError,
)

BASE = "http://terminal.test/api/v1"
TERMINAL_ID = "A1234-S1-1"
KEY = "the-real-api-key-0123456789"
TERMINAL = {
    "terminalId": TERMINAL_ID,
    "tenantId": "A1234",
    "storeCode": "S1",
    "terminalNo": 1,
    "status": "Opened",
    "businessDate": "20250105",
    "openCounter": 1,
    "apiKey": KEY,
}

type Handler = Callable[[httpx.Request], httpx.Response]


class FakeTerminal:
    """Answers like the terminal service; counts calls."""

    def __init__(self, data: dict | None = None, status: int | None = None) -> None:
        self.data = data or TERMINAL
        self.status = status
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.status is not None:
            return httpx.Response(self.status, json={"success": False, "data": None})
        if request.headers.get("X-API-KEY") != KEY:
            return httpx.Response(401, json={"success": False, "data": None})
        return httpx.Response(200, json={"success": True, "code": 200, "data": self.data})


def resolver_for(handler: Handler, ttl: float = 30) -> RemoteTerminalResolver:
    http = HttpClientHelper(
        transport=httpx.MockTransport(handler), backoff=0, breakers=BreakerRegistry()
    )
    return RemoteTerminalResolver(http, BASE, ttl=ttl)


async def test_valid_key_gives_terminal_principal() -> None:
    fake = FakeTerminal()
    principal = await resolver_for(fake)(TERMINAL_ID, KEY)
    assert principal.kind is PrincipalKind.TERMINAL
    assert principal.tenant_id == "A1234" and principal.terminal_id == TERMINAL_ID
    assert principal.subject == f"terminal:{TERMINAL_ID}"
    assert principal.claims["storeCode"] == "S1" and principal.claims["businessDate"] == "20250105"
    assert "apiKey" not in principal.claims  # secrets are not kept
    request = fake.requests[0]
    assert request.url.path == f"/api/v1/terminals/{TERMINAL_ID}"
    assert request.url.params["terminal_id"] == TERMINAL_ID
    assert request.headers["X-API-KEY"] == KEY


async def test_successes_are_cached_by_terminal_and_key_hash() -> None:
    fake = FakeTerminal()
    resolver = resolver_for(fake)
    for _ in range(5):
        await resolver(TERMINAL_ID, KEY)
    assert len(fake.requests) == 1
    digest = hashlib.sha256(KEY.encode()).hexdigest()
    assert (TERMINAL_ID, digest) in resolver.cache
    assert all(KEY not in str(k) for k in resolver.cache._entries)
    # Another key for the same terminal is checked again (and fails).
    with pytest.raises(AuthenticationError):
        await resolver(TERMINAL_ID, "a-guess")
    assert len(fake.requests) == 2
    await resolver.forget(TERMINAL_ID)
    await resolver(TERMINAL_ID, KEY)
    assert len(fake.requests) == 3


async def test_cache_expires() -> None:
    now = [0.0]
    fake = FakeTerminal()
    resolver = resolver_for(fake)
    resolver.cache = TTLCache(ttl=30, clock=lambda: now[0])
    await resolver(TERMINAL_ID, KEY)
    now[0] = 31
    await resolver(TERMINAL_ID, KEY)
    assert len(fake.requests) == 2


@pytest.mark.parametrize("status", [401, 403, 404])
async def test_rejections_are_401_and_not_cached(status: int) -> None:
    fake = FakeTerminal(status=status)
    resolver = resolver_for(fake)
    for _ in range(2):
        with pytest.raises(AuthenticationError) as caught:
            await resolver(TERMINAL_ID, KEY)
        assert caught.value.status_code == 401
    assert len(fake.requests) == 2


async def test_terminal_service_errors_are_not_authentication_failures() -> None:
    with pytest.raises(ExternalServiceError):
        await resolver_for(FakeTerminal(status=500))(TERMINAL_ID, KEY)
    with pytest.raises(ExternalServiceError):
        await resolver_for(FakeTerminal(status=400))(TERMINAL_ID, KEY)


@pytest.mark.parametrize(
    "data",
    [
        {**TERMINAL, "terminalId": "A1234-S1-2"},  # describes another terminal
        {**TERMINAL, "tenantId": ""},
        {k: v for k, v in TERMINAL.items() if k != "tenantId"},
    ],
)
async def test_answer_must_describe_the_terminal(data: dict) -> None:
    with pytest.raises(AuthenticationError):
        await resolver_for(FakeTerminal(data=data))(TERMINAL_ID, KEY)


async def test_snake_case_answer_is_accepted() -> None:
    data = {"terminal_id": TERMINAL_ID, "tenant_id": "A1234", "api_key": KEY}
    principal = await resolver_for(FakeTerminal(data=data))(TERMINAL_ID, KEY)
    assert principal.tenant_id == "A1234" and "api_key" not in principal.claims


async def test_body_without_data_is_an_external_error() -> None:
    def handler(_: httpx.Request) -> httpx.Response:
        return httpx.Response(200, text="not json")

    with pytest.raises(ExternalServiceError):
        await resolver_for(handler)(TERMINAL_ID, KEY)


async def test_empty_inputs_are_refused_without_a_call() -> None:
    fake = FakeTerminal()
    resolver = resolver_for(fake)
    for terminal_id, key in (("", KEY), (TERMINAL_ID, "")):
        with pytest.raises(AuthenticationError):
            await resolver(terminal_id, key)
    assert fake.requests == []


async def test_plugged_into_create_app(make_app, client_for, settings) -> None:
    """A wiring whose `terminal_credentials` is `remote_terminal_resolver`: X-API-KEY +
    terminal_id work."""
    fake = FakeTerminal()
    router = APIRouter()

    @router.get("/whoami")
    async def whoami(principal: CurrentPrincipal) -> dict:
        return {"tenant": principal.tenant_id, "terminal": principal.terminal_id}

    settings.base_url_terminal = BASE
    app = make_app([router], terminal_credentials=lambda self: remote_terminal_resolver(self.infra))
    infra = app.state.wiring.infra
    infra.http = HttpClientHelper(transport=httpx.MockTransport(fake), backoff=0)
    infra.auth.terminals = remote_terminal_resolver(infra)
    client = client_for(app)
    r = await client.get("/whoami", params={"terminal_id": TERMINAL_ID}, headers={"X-API-KEY": KEY})
    assert r.status_code == 200, r.text
    assert r.json() == {"tenant": "A1234", "terminal": TERMINAL_ID}
    bad = await client.get(
        "/whoami", params={"terminal_id": TERMINAL_ID}, headers={"X-API-KEY": "wrong"}
    )
    assert bad.status_code == 401 and bad.json()["code"] == "200001"
    assert (await client.get("/whoami", headers={"X-API-KEY": KEY})).status_code == 401


# ---- terminal JWTs ---------------------------------------------------------------------------


def _token_principal(key_version: int | None = 0, status: str = "Closed") -> Principal:
    claims = {"sub": f"terminal:{TERMINAL_ID}", "terminal_id": TERMINAL_ID, "status": status}
    if key_version is not None:
        claims["key_version"] = key_version
    return Principal(
        kind=PrincipalKind.TERMINAL,
        subject=f"terminal:{TERMINAL_ID}",
        tenant_id="A1234",
        terminal_id=TERMINAL_ID,
        claims=claims,
        token=f"jwt-v{key_version}",
    )


class FakeTokenTerminal(FakeTerminal):
    """Accepts a bearer token only while it names the current key version."""

    def __init__(self) -> None:
        super().__init__()
        self.current = "jwt-v0"

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.headers.get("Authorization") != f"Bearer {self.current}":
            return httpx.Response(401, json={"success": False, "data": None})
        return httpx.Response(200, json={"success": True, "code": 200, "data": self.data})


async def test_a_terminal_token_gets_the_live_terminal_and_is_cached_per_key_version() -> None:
    fake = FakeTokenTerminal()
    resolver = resolver_for(fake)
    principal = await resolver.verify_token(_token_principal(0, status="Closed"))
    # The terminal as it is now wins over what the token said when it was issued.
    assert principal.claims["status"] == "Opened"
    assert principal.claims["businessDate"] == "20250105"
    assert principal.token == "jwt-v0" and principal.terminal_id == TERMINAL_ID
    assert fake.requests[0].headers["Authorization"] == "Bearer jwt-v0"
    assert "X-API-KEY" not in fake.requests[0].headers
    for _ in range(3):
        await resolver.verify_token(_token_principal(0))
    assert len(fake.requests) == 1

    # The key was rotated: the old version's approval is dropped by the notice, and the
    # terminal service refuses the old token; refusals are never cached.
    fake.current = "jwt-v1"
    await resolver.forget(TERMINAL_ID)
    for _ in range(2):
        with pytest.raises(AuthenticationError):
            await resolver.verify_token(_token_principal(0))
    assert len(fake.requests) == 3
    assert (await resolver.verify_token(_token_principal(1))).claims["status"] == "Opened"


async def test_a_token_without_a_key_version_is_version_zero_and_a_bad_one_never_matches() -> None:
    fake = FakeTokenTerminal()
    fake.current = "jwt-vNone"
    resolver = resolver_for(fake)
    await resolver.verify_token(_token_principal(None))  # issued before versions existed
    assert key_version_of(_token_principal(None)) == 0
    odd = _token_principal(0)
    for bad in ("1", True, 1.0):
        odd.claims["key_version"] = bad
        assert key_version_of(odd) == -1


async def test_an_outage_of_the_terminal_service_serves_the_last_approval() -> None:
    """Down, 5xx or circuit open: the credential's last approval is served (counted), as
    long as no notice dropped it; a credential never approved is not let in; a refusal (401)
    is never replaced by an old approval."""
    fake = FakeTerminal()
    stale: list[int] = []
    http = HttpClientHelper(
        transport=httpx.MockTransport(fake),
        backoff=0,
        breakers=BreakerRegistry(failure_threshold=100),
    )
    resolver = RemoteTerminalResolver(http, BASE, ttl=0, on_stale=lambda: stale.append(1))
    assert (await resolver(TERMINAL_ID, KEY)).terminal_id == TERMINAL_ID
    fake.status = 503
    assert (await resolver(TERMINAL_ID, KEY)).claims["storeCode"] == "S1"
    assert stale == [1] and resolver.stale_served == 1
    with pytest.raises((ExternalServiceError, ServiceUnavailableError)):
        await resolver(TERMINAL_ID, "a-key-never-seen-before")
    await resolver.forget(TERMINAL_ID)  # a notice came: nothing old is served any more
    with pytest.raises((ExternalServiceError, ServiceUnavailableError)):
        await resolver(TERMINAL_ID, KEY)
    fake.status = None
    await resolver(TERMINAL_ID, KEY)
    fake.status = 401
    with pytest.raises(AuthenticationError):
        await resolver(TERMINAL_ID, KEY)
