"""Offline numbers (asked of the cart, which keeps the counters) and a terminal's sessions
(read from its open/close logs)."""

from __future__ import annotations

from typing import Any

import structlog

from kugelpos.common.auth.tokens import TokenCodec
from kugelpos.common.clients.http import HttpClientHelper
from kugelpos.common.clients.services import ServiceCaller
from kugelpos.common.db.mongo import Mongo

from ..config import TerminalSettings
from ..errors import OfflineBlockSizeError, OfflineNumbersUnavailableError
from ..lifecycle.repository import OpenCloseLogRepository
from ..terminals.documents import TerminalDocument
from .schemas import Session

log = structlog.get_logger(__name__)

MIN_BLOCK, MAX_BLOCK = 1, 1_000
CART_BLOCK_SIZE = "401111"


class OfflineService:
    def __init__(
        self,
        mongo: Mongo,
        http: HttpClientHelper,
        codec: TokenCodec,
        settings: TerminalSettings,
    ) -> None:
        self._mongo = mongo
        self._caller = ServiceCaller(http, codec, service="terminal")
        self._settings = settings

    def _cart_url(self, terminal: TerminalDocument) -> str:
        base = self._settings.base_url("cart").rstrip("/")
        return (
            f"{base}/tenants/{terminal.tenant_id}/stores/{terminal.store_code}"
            f"/terminals/{terminal.terminal_no}/offline-numbers"
        )

    async def reserve(self, terminal: TerminalDocument, size: int, by: str) -> dict[str, Any]:
        """A new block from the cart. Not retried: a lost answer leaves its numbers a gap
        (recorded with the block), never numbers handed out twice."""
        if isinstance(size, bool) or not MIN_BLOCK <= size <= MAX_BLOCK:
            raise OfflineBlockSizeError(f"size must be within {MIN_BLOCK}..{MAX_BLOCK}")
        url = self._cart_url(terminal)
        self._caller.calls += 1
        response = await self._caller.http.post(
            url,
            json={"size": size, "by": by},
            headers=self._caller.headers(terminal.tenant_id),
            retry=False,
        )
        body = _json(response)
        if response.is_success and isinstance(body.get("data"), dict):
            return body["data"]
        message = str(body.get("message") or f"the cart answered {response.status_code}")
        if body.get("code") == CART_BLOCK_SIZE or response.status_code == 400:
            raise OfflineBlockSizeError(message)
        log.warning("offline_numbers_unavailable", status=response.status_code)
        raise OfflineNumbersUnavailableError(message)

    async def blocks(self, terminal: TerminalDocument) -> list[dict[str, Any]]:
        data = await self._caller.get_data(self._cart_url(terminal), terminal.tenant_id)
        return [d for d in data or [] if isinstance(d, dict)]

    async def sessions(self, terminal: TerminalDocument, dates: list[str]) -> list[Session]:
        """The sessions of those business dates (all when none given), from the open/close
        logs: opened, and closed when it was."""
        query: dict[str, Any] = {
            "tenant_id": terminal.tenant_id,
            "store_code": terminal.store_code,
            "terminal_no": terminal.terminal_no,
        }
        if dates:
            query["business_date"] = {"$in": sorted(set(dates))}
        db = self._mongo.tenant_db(terminal.tenant_id)
        cursor = db[OpenCloseLogRepository.collection_name].find(
            query,
            {
                "_id": False,
                "business_date": True,
                "open_counter": True,
                "business_counter": True,
                "operation": True,
                "generate_date_time": True,
            },
        )
        found: dict[tuple[str, int], dict[str, Any]] = {}
        for raw in await cursor.to_list():
            key = (str(raw["business_date"]), int(raw["open_counter"]))
            entry = found.setdefault(key, {"business_counter": raw.get("business_counter")})
            entry["opened_at" if raw.get("operation") == "open" else "closed_at"] = raw.get(
                "generate_date_time"
            )
        return [
            Session(business_date=date, open_counter=counter, **found[(date, counter)])
            for date, counter in sorted(found)
        ]


def _json(response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
