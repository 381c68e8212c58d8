"""Terminal credentials checked live by asking the terminal service (every service except
terminal, which owns the keys and checks them against its own database).

Both kinds of terminal credential are verified with
`GET {BASE_URL_TERMINAL}/terminals/{terminal_id}?terminal_id={terminal_id}`:

- `X-API-KEY`: the call carries the same header; the terminal service compares it with the
  stored hash. This side never sees a stored key.
- a terminal JWT: its signature and expiry are checked locally, then the call carries the same
  token, which the terminal service accepts only while the terminal exists and the token's
  key version is the terminal's current one (a key rotation retires every token issued under
  the old key).

The answer is the terminal as it is now (state, business date, counters, staff), which becomes
the principal's claims, so no caller acts on what a day-old token says.

Successful checks are cached per process, keyed by (terminal id, SHA-256 of the key) or
(terminal id, key version), so a till's hot path does not call the terminal service on every
request. A `terminal_changed` notice (key rotated, terminal deleted, opened, closed, staff
signed in or out) drops every cached approval of that terminal at once; the TTL only bounds
how long a lost notice can leave one behind. Refusals are never cached, and the key itself is
never kept in memory beyond the request.

While the terminal service cannot be reached (down, circuit open, 5xx), the last approval of
the same credential is served for up to `stale_max_age` (default 15 min), logged and counted:
a till keeps selling through a terminal-service outage, as it did when a token was trusted on
its claims alone. This gives up nothing: only the terminal service revokes, and a revocation
made before the outage dropped the approval (`forget` drops the last-known copy too).
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import structlog

from ..cache import TTLCache
from ..errors import AuthenticationError, ExternalServiceError, ServiceUnavailableError
from .principal import Principal, PrincipalKind

if TYPE_CHECKING:
    from ..clients.http import HttpClientHelper
    from ..infrastructure import Infrastructure

log = structlog.get_logger(__name__)

DEFAULT_TTL_SECONDS = 10.0
DEFAULT_STALE_MAX_AGE_SECONDS = 900.0
DEFAULT_MAX_ENTRIES = 10_000
# The claim of a terminal JWT naming the key version it was issued under (absent in tokens
# issued before versions existed: version 0, the version of a terminal never re-keyed).
KEY_VERSION_CLAIM = "key_version"
_REJECTED = frozenset({401, 403, 404})
# Never keep a key (or its hash) among the claims a handler can read.
_SECRET_FIELDS = frozenset({"apiKey", "api_key", "hashedApiKey", "hashed_api_key"})

type CacheKey = tuple[str, str]


def _digest(api_key: str) -> str:
    return hashlib.sha256(api_key.encode("utf-8")).hexdigest()


def key_version_of(principal: Principal) -> int:
    """The key version a terminal JWT was issued under (0 when it names none)."""
    value = principal.claims.get(KEY_VERSION_CLAIM, 0)
    return value if isinstance(value, int) and not isinstance(value, bool) else -1


class RemoteTerminalResolver:
    """An `ApiKeyResolver` and `TerminalTokenCheck`: a terminal credential -> the terminal's
    `Principal` as it is now, or 401."""

    def __init__(
        self,
        http: HttpClientHelper,
        base_url_terminal: str,
        *,
        ttl: float = DEFAULT_TTL_SECONDS,
        max_entries: int = DEFAULT_MAX_ENTRIES,
        cache: TTLCache[CacheKey, Principal] | None = None,
        stale_max_age: float = DEFAULT_STALE_MAX_AGE_SECONDS,
        on_stale: Callable[[], None] | None = None,
    ) -> None:
        self._http = http
        self._base_url = base_url_terminal.rstrip("/")
        self.cache: TTLCache[CacheKey, Principal] = cache or TTLCache(
            ttl=ttl, max_entries=max_entries
        )
        self.last_known: TTLCache[CacheKey, Principal] = TTLCache(
            ttl=stale_max_age, max_entries=max_entries
        )
        self._on_stale = on_stale
        self.stale_served = 0

    async def __call__(self, terminal_id: str, api_key: str) -> Principal:
        if not terminal_id or not api_key:
            raise AuthenticationError("Invalid API key")
        key = (terminal_id, _digest(api_key))
        return await self._approval(key, lambda: self._verify(terminal_id, {"X-API-KEY": api_key}))

    async def verify_token(self, principal: Principal) -> Principal:
        """A terminal JWT (signature already checked): still the terminal's current key?"""
        terminal_id, token = principal.terminal_id, principal.token
        if not terminal_id or not token:
            raise AuthenticationError("Could not validate credentials")
        key = (terminal_id, f"token:v{key_version_of(principal)}")
        live = await self._approval(
            key, lambda: self._verify(terminal_id, {"Authorization": f"Bearer {token}"})
        )
        # The live terminal's state over what the token said when it was issued; the token
        # itself stays this request's own (calls made on its behalf forward it).
        return Principal(
            kind=PrincipalKind.TERMINAL,
            subject=principal.subject,
            tenant_id=principal.tenant_id,
            terminal_id=terminal_id,
            claims={**principal.claims, **live.claims},
            token=token,
        )

    async def forget(self, terminal_id: str) -> None:
        """Drop every cached approval of one terminal (its key, state or existence changed)."""
        self.cache.invalidate_where(lambda key: key[0] == terminal_id)
        self.last_known.invalidate_where(lambda key: key[0] == terminal_id)

    async def _approval(
        self, key: CacheKey, verify: Callable[[], Awaitable[Principal]]
    ) -> Principal:
        async def load() -> Principal:
            principal = await verify()
            self.last_known.set(key, principal)
            return principal

        try:
            return await self.cache.get_or_load(key, load)
        except (ServiceUnavailableError, ExternalServiceError):
            stale = self.last_known.get(key)
            if stale is None:
                raise
            self.stale_served += 1
            if self._on_stale is not None:
                self._on_stale()
            log.warning("terminal_credential_stale_served", terminal_id=key[0])
            return stale

    async def _verify(self, terminal_id: str, headers: dict[str, str]) -> Principal:
        url = f"{self._base_url}/terminals/{quote(terminal_id, safe='')}"
        response = await self._http.get(url, params={"terminal_id": terminal_id}, headers=headers)
        if response.status_code in _REJECTED:
            raise AuthenticationError(
                "Invalid API key" if "X-API-KEY" in headers else "Terminal credential revoked"
            )
        if not 200 <= response.status_code < 300:
            log.warning("terminal_credential_check_failed", status=response.status_code)
            raise ExternalServiceError(
                f"Terminal service answered {response.status_code} to a credential check"
            )
        data = _terminal_data(response)
        tenant_id = data.get("tenantId") or data.get("tenant_id")
        returned_id = data.get("terminalId") or data.get("terminal_id")
        if not isinstance(tenant_id, str) or not tenant_id or returned_id != terminal_id:
            # A 2xx that does not describe this terminal proves nothing.
            raise AuthenticationError("Invalid API key")
        claims = {k: v for k, v in data.items() if k not in _SECRET_FIELDS}
        return Principal.of_terminal(terminal_id, tenant_id, claims)


def _terminal_data(response: Any) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError as exc:
        raise ExternalServiceError("Terminal service sent a body that is not JSON") from exc
    data = body.get("data") if isinstance(body, dict) else None
    if not isinstance(data, dict):
        raise ExternalServiceError("Terminal service sent no terminal data")
    return data


def remote_terminal_resolver(infra: Infrastructure) -> RemoteTerminalResolver:
    """A wiring's `terminal_credentials` for a service other than the terminal service: API
    keys and terminal JWTs (`wiring.RemoteTerminalsWiring`)."""
    settings = infra.settings
    return RemoteTerminalResolver(
        infra.http,
        settings.base_url_terminal,
        ttl=settings.terminal_credential_cache_seconds,
        stale_max_age=settings.terminal_credential_stale_seconds,
        on_stale=lambda: infra.metrics.fallback("terminal", "credential"),
    )
