"""Terminal API keys checked by asking the terminal service (every service except terminal).

`X-API-KEY` + terminal id are verified with
`GET {BASE_URL_TERMINAL}/terminals/{terminal_id}?terminal_id={terminal_id}` carrying the same
header. The terminal service owns the keys (stored hashed there); this side never sees a
stored key. Successful checks are cached for a short TTL keyed by (terminal id, SHA-256 of the
key), so a terminal's hot path does not call the terminal service on every request; failures
are never cached. The key itself is never kept in memory beyond the request.

Plug it in with `create_app(..., api_key_resolver=remote_terminal_resolver)`.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import structlog

from ..cache import TTLCache
from ..errors import AuthenticationError, ExternalServiceError
from .principal import Principal, PrincipalKind

if TYPE_CHECKING:
    from ..clients.http import HttpClientHelper
    from ..web.app import Infrastructure

log = structlog.get_logger(__name__)

DEFAULT_TTL_SECONDS = 30.0
DEFAULT_MAX_ENTRIES = 10_000
_REJECTED = frozenset({401, 403, 404})
# Never keep a key (or its hash) among the claims a handler can read.
_SECRET_FIELDS = frozenset({"apiKey", "api_key", "hashedApiKey", "hashed_api_key"})

type CacheKey = tuple[str, str]


def _digest(api_key: str) -> str:
    return hashlib.sha256(api_key.encode("utf-8")).hexdigest()


class RemoteTerminalResolver:
    """An `ApiKeyResolver`: (terminal_id, api_key) -> terminal `Principal`, or 401."""

    def __init__(
        self,
        http: HttpClientHelper,
        base_url_terminal: str,
        *,
        ttl: float = DEFAULT_TTL_SECONDS,
        max_entries: int = DEFAULT_MAX_ENTRIES,
        cache: TTLCache[CacheKey, Principal] | None = None,
    ) -> None:
        self._http = http
        self._base_url = base_url_terminal.rstrip("/")
        self.cache: TTLCache[CacheKey, Principal] = cache or TTLCache(
            ttl=ttl, max_entries=max_entries
        )

    async def __call__(self, terminal_id: str, api_key: str) -> Principal:
        if not terminal_id or not api_key:
            raise AuthenticationError("Invalid API key")
        key = (terminal_id, _digest(api_key))
        return await self.cache.get_or_load(key, lambda: self._verify(terminal_id, api_key))

    def forget(self, terminal_id: str) -> None:
        """Drop every cached check of one terminal (e.g. after its key was regenerated)."""
        self.cache.invalidate_where(lambda key: key[0] == terminal_id)

    async def _verify(self, terminal_id: str, api_key: str) -> Principal:
        url = f"{self._base_url}/terminals/{quote(terminal_id, safe='')}"
        response = await self._http.get(
            url, params={"terminal_id": terminal_id}, headers={"X-API-KEY": api_key}
        )
        if response.status_code in _REJECTED:
            raise AuthenticationError("Invalid API key")
        if not 200 <= response.status_code < 300:
            log.warning("terminal_key_check_failed", status=response.status_code)
            raise ExternalServiceError(
                f"Terminal service answered {response.status_code} to an API key check"
            )
        data = _terminal_data(response)
        tenant_id = data.get("tenantId") or data.get("tenant_id")
        returned_id = data.get("terminalId") or data.get("terminal_id")
        if not isinstance(tenant_id, str) or not tenant_id or returned_id != terminal_id:
            # A 2xx that does not describe this terminal proves nothing.
            raise AuthenticationError("Invalid API key")
        claims = {k: v for k, v in data.items() if k not in _SECRET_FIELDS}
        return Principal(
            kind=PrincipalKind.TERMINAL,
            subject=f"terminal:{terminal_id}",
            tenant_id=tenant_id,
            terminal_id=terminal_id,
            claims=claims,
        )


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
    """Factory for `create_app(api_key_resolver=...)`.

    The TTL comes from the service settings' `api_key_cache_seconds` when it defines one.
    """
    settings = infra.settings
    ttl = float(getattr(settings, "api_key_cache_seconds", DEFAULT_TTL_SECONDS))
    resolver = RemoteTerminalResolver(infra.http, settings.base_url_terminal, ttl=ttl)
    infra.extras["remote_terminal_resolver"] = resolver
    return resolver
