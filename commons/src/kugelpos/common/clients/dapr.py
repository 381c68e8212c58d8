"""DaprClientHelper: publish and state over the Dapr HTTP API, through HttpClientHelper
(so the same pooled client, retries and per-target circuit breaker apply)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx

from ..errors import ConflictError, ExternalServiceError, ServiceUnavailableError
from .http import HttpClientHelper


class DaprError(ServiceUnavailableError):
    """The sidecar refused or could not be reached; the caller keeps the work (outbox)."""


@dataclass(frozen=True, slots=True)
class StateEntry:
    key: str
    value: Any
    etag: str | None


@dataclass(frozen=True, slots=True)
class StateOperation:
    operation: str  # "upsert" | "delete"
    key: str
    value: Any = None
    etag: str | None = None
    ttl_seconds: int | None = None

    def to_request(self) -> dict[str, Any]:
        request: dict[str, Any] = {"key": self.key}
        if self.operation == "upsert":
            request["value"] = self.value
        if self.etag is not None:
            request["etag"] = self.etag
        if self.ttl_seconds is not None:
            request["metadata"] = {"ttlInSeconds": str(self.ttl_seconds)}
        return {"operation": self.operation, "request": request}


def _decode(raw: bytes) -> Any:
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return raw.decode("utf-8", errors="replace")


API_TOKEN_HEADER = "dapr-api-token"


class DaprClientHelper:
    def __init__(
        self,
        http: HttpClientHelper,
        endpoint: str,
        app_id: str | None = None,
        *,
        api_token: str | None = None,
    ) -> None:
        self._http = http
        self._base = endpoint.rstrip("/") + "/v1.0"
        # Dapr's API token (DAPR_API_TOKEN): a sidecar configured with one refuses (401) every
        # call without it, so it goes on every call (the sidecar never passes it on).
        self._headers = {API_TOKEN_HEADER: api_token} if api_token else {}
        # daprd knows its app; a shared local sidecar without tokens learns it from this
        # header (CloudEvent `source`, app-scoped state keys).
        self._app_headers = {**self._headers, **({"dapr-app-id": app_id} if app_id else {})}

    def _state_url(self, store: str, key: str | None = None) -> str:
        url = f"{self._base}/state/{quote(store, safe='')}"
        return url if key is None else f"{url}/{quote(key, safe='')}"

    async def _send(
        self, method: str, url: str, *, headers: dict[str, str] | None = None, **kwargs: Any
    ) -> httpx.Response:
        """Every sidecar failure surfaces as DaprError, whatever layer noticed it."""
        merged = {**self._headers, **headers} if headers else self._headers
        try:
            return await self._http.request(method, url, headers=merged or None, **kwargs)
        except DaprError:
            raise
        except (ServiceUnavailableError, ExternalServiceError) as exc:
            raise DaprError(exc.message) from exc

    def _raise_for(self, response: Any, what: str) -> None:
        if response.status_code == 409:
            raise ConflictError(f"{what}: changed concurrently (ETag mismatch)")
        if response.status_code == 401:
            # The token itself is never put in the message.
            raise DaprError(f"{what}: sidecar refused the Dapr API token (DAPR_API_TOKEN)")
        if response.status_code >= 300:
            raise DaprError(f"{what}: sidecar answered {response.status_code}")

    async def publish(
        self,
        pubsub: str,
        topic: str,
        data: Any,
        *,
        metadata: dict[str, str] | None = None,
    ) -> None:
        params = {f"metadata.{k}": v for k, v in (metadata or {}).items()}
        response = await self._send(
            "POST",
            f"{self._base}/publish/{quote(pubsub, safe='')}/{quote(topic, safe='')}",
            json=data,
            params=params or None,
            headers=self._app_headers or None,
        )
        self._raise_for(response, f"publish {pubsub}/{topic}")

    async def get_state(self, store: str, key: str) -> StateEntry | None:
        response = await self._send("GET", self._state_url(store, key))
        if response.status_code in (204, 404):
            return None
        self._raise_for(response, f"get state {store}")
        return StateEntry(
            key=key, value=_decode(response.content), etag=response.headers.get("etag")
        )

    async def save_state(
        self,
        store: str,
        key: str,
        value: Any,
        *,
        etag: str | None = None,
        ttl_seconds: int | None = None,
        first_write: bool = False,
    ) -> None:
        """`etag` makes the save conditional (ConflictError when someone else wrote first)."""
        item: dict[str, Any] = {"key": key, "value": value}
        if etag is not None:
            item["etag"] = etag
        if ttl_seconds is not None:
            item["metadata"] = {"ttlInSeconds": str(ttl_seconds)}
        if first_write or etag is not None:
            item["options"] = {"concurrency": "first-write"}
        # A conditional save must not be blindly repeated: a lost reply would turn into a 409.
        response = await self._send(
            "POST", self._state_url(store), json=[item], retry=etag is None and not first_write
        )
        self._raise_for(response, f"save state {store}")

    async def delete_state(self, store: str, key: str, *, etag: str | None = None) -> None:
        headers = {"If-Match": etag} if etag else None
        response = await self._send("DELETE", self._state_url(store, key), headers=headers)
        self._raise_for(response, f"delete state {store}")

    async def get_bulk_state(self, store: str, keys: list[str]) -> dict[str, StateEntry]:
        response = await self._send(
            "POST", f"{self._state_url(store)}/bulk", json={"keys": keys, "parallelism": 10}
        )
        self._raise_for(response, f"bulk get state {store}")
        found: dict[str, StateEntry] = {}
        for item in response.json():
            if item.get("data") is not None:
                found[item["key"]] = StateEntry(item["key"], item["data"], item.get("etag"))
        return found

    async def transact_state(self, store: str, operations: list[StateOperation]) -> None:
        response = await self._send(
            "POST",
            f"{self._state_url(store)}/transaction",
            json={"operations": [op.to_request() for op in operations]},
            retry=False,
        )
        self._raise_for(response, f"state transaction {store}")

    async def healthz(self) -> bool:
        response = await self._send("GET", f"{self._base}/healthz", retry=False)
        return response.status_code == 204
