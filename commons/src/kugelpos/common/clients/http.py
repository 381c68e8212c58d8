"""HttpClientHelper: the one way a service calls another over HTTP.

One pooled `httpx.AsyncClient` per process, timeouts, up to N tries with exponential backoff
on connect errors and 5xx, a circuit breaker per target, `X-Request-ID` forwarded.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import structlog

from ..errors import ExternalServiceError, ServiceUnavailableError
from ..observability.context import REQUEST_ID_HEADER, current_request_id
from .breaker import BreakerRegistry
from .transport import AiohttpTransport

log = structlog.get_logger(__name__)

_RETRYABLE = (httpx.ConnectError, httpx.ConnectTimeout, httpx.RemoteProtocolError)


class HttpClientHelper:
    def __init__(
        self,
        *,
        timeout: float = 10.0,
        max_attempts: int = 3,
        backoff: float = 0.2,
        breakers: BreakerRegistry | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        max_connections: int = 100,
    ) -> None:
        self.max_attempts = max_attempts
        self.backoff = backoff
        self.breakers = breakers or BreakerRegistry()
        self._client = httpx.AsyncClient(
            timeout=httpx.Timeout(timeout, connect=min(timeout, 3.0)),
            transport=transport or AiohttpTransport(max_connections=max_connections),
            headers={"Accept": "application/json"},
        )

    async def aclose(self) -> None:
        await self._client.aclose()

    @staticmethod
    def _target(url: httpx.URL) -> str:
        return f"{url.scheme}://{url.host}:{url.port or ''}"

    async def request(
        self,
        method: str,
        url: str,
        *,
        headers: dict[str, str] | None = None,
        params: Any = None,
        json: Any = None,
        content: bytes | None = None,
        retry: bool = True,
    ) -> httpx.Response:
        """Send; returns any response below 500. Raises ServiceUnavailableError when the
        target is down or its circuit is open, ExternalServiceError on a persistent 5xx."""
        merged = dict(headers or {})
        request_id = current_request_id()
        if request_id and REQUEST_ID_HEADER not in merged:
            merged[REQUEST_ID_HEADER] = request_id
        target = self._target(httpx.URL(url))
        breaker = self.breakers.for_target(target)
        attempts = self.max_attempts if retry else 1
        last_error: str = ""
        for attempt in range(1, attempts + 1):
            if not breaker.allow():
                raise ServiceUnavailableError(f"Circuit open for {target}")
            try:
                response = await self._client.request(
                    method, url, headers=merged, params=params, json=json, content=content
                )
            except httpx.RequestError as exc:
                breaker.record_failure()
                last_error = f"{type(exc).__name__} calling {target}"
                # A read timeout or a broken read may mean the request was applied: only
                # connect-level failures are safe to repeat blindly.
                if not isinstance(exc, _RETRYABLE):
                    raise ServiceUnavailableError(last_error) from exc
            except BaseException:
                # Cancelled, or failed before reaching the target (e.g. a body that is not
                # JSON-serialisable): no verdict on the target, but free a half-open trial.
                breaker.release()
                raise
            else:
                if response.status_code < 500:
                    breaker.record_success()
                    return response
                breaker.record_failure()
                last_error = f"{target} answered {response.status_code}"
                if attempt == attempts:
                    raise ExternalServiceError(last_error, details={"status": response.status_code})
            if attempt < attempts:
                log.warning("http_retry", target=target, attempt=attempt, error=last_error)
                await asyncio.sleep(self.backoff * 2 ** (attempt - 1))
        raise ServiceUnavailableError(last_error or f"{target} unavailable")

    async def get(self, url: str, **kwargs: Any) -> httpx.Response:
        return await self.request("GET", url, **kwargs)

    async def post(self, url: str, **kwargs: Any) -> httpx.Response:
        return await self.request("POST", url, **kwargs)
