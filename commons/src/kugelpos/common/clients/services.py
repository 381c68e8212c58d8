"""ServiceCaller: one service reading another's API as itself, with a service token of the
tenant it acts for (the cart's master-data reads, stock's item checks).

The token is short-lived (`SERVICE_TOKEN_MINUTES`) and kept a little less long per tenant, so
a call mints one at most every few minutes; no caller's own credential (a terminal key, a
user's token) is ever passed on. Answers are commons envelopes: `data` is what callers want.
"""

from __future__ import annotations

from typing import Any

import httpx
import structlog

from ..auth.tokens import TokenCodec
from ..cache import TTLCache
from ..errors import ExternalServiceError
from .http import HttpClientHelper

log = structlog.get_logger(__name__)

TOKEN_CACHE_SECONDS = 240.0  # service tokens live 5 minutes


class ServiceCaller:
    def __init__(self, http: HttpClientHelper, codec: TokenCodec, *, service: str) -> None:
        self.http = http
        self._codec = codec
        self._service = service
        self._tokens: TTLCache[str, str] = TTLCache(ttl=TOKEN_CACHE_SECONDS, max_entries=10_000)
        self.calls = 0  # requests sent (tests and hot-path checks count them)

    def headers(self, tenant_id: str) -> dict[str, str]:
        token = self._tokens.get(tenant_id)
        if token is None:
            token = self._codec.issue_service_token(service=self._service, tenant_id=tenant_id)
            self._tokens.set(tenant_id, token)
        return {"Authorization": f"Bearer {token}"}

    async def get_data(
        self, url: str, tenant_id: str, params: dict[str, Any] | None = None
    ) -> Any | None:
        """`data` of a success envelope; None on 404; an error for anything else."""
        self.calls += 1
        response = await self.http.get(url, params=params, headers=self.headers(tenant_id))
        return self._data(url, response)

    async def post_data(self, url: str, tenant_id: str, body: Any) -> Any | None:
        """A read in POST form (a body too large for a query string): as `get_data`. Retried
        as a GET is (connect errors, 5xx): it must change nothing."""
        self.calls += 1
        response = await self.http.post(url, json=body, headers=self.headers(tenant_id))
        return self._data(url, response)

    @staticmethod
    def _data(url: str, response: httpx.Response) -> Any | None:
        if response.status_code == 404:
            return None
        if not response.is_success:
            log.warning("service_read_failed", url=url, status=response.status_code)
            raise ExternalServiceError(
                f"{url} answered {response.status_code}", details={"status": response.status_code}
            )
        try:
            return response.json().get("data")
        except (ValueError, AttributeError) as exc:
            raise ExternalServiceError(f"{url} sent a body that is not an envelope") from exc
