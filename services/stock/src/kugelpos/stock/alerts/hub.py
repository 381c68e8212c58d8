"""The sockets this process holds, by (tenant, store). Alerts reach it from every replica
through the broadcast pub/sub; a socket whose send fails is dropped."""

from __future__ import annotations

import asyncio
import json
from collections import defaultdict
from typing import Any

import structlog
from fastapi import WebSocket

log = structlog.get_logger(__name__)


class AlertHub:
    def __init__(self) -> None:
        self._sockets: dict[tuple[str, str], set[WebSocket]] = defaultdict(set)

    def add(self, tenant_id: str, store_code: str, socket: WebSocket) -> None:
        self._sockets[(tenant_id, store_code)].add(socket)

    def remove(self, tenant_id: str, store_code: str, socket: WebSocket) -> None:
        sockets = self._sockets.get((tenant_id, store_code))
        if sockets is not None:
            sockets.discard(socket)
            if not sockets:
                self._sockets.pop((tenant_id, store_code), None)

    def count(self, tenant_id: str, store_code: str) -> int:
        return len(self._sockets.get((tenant_id, store_code), ()))

    async def send(self, tenant_id: str, store_code: str, message: dict[str, Any]) -> int:
        """Send to every local socket of the store; returns how many got it."""
        sockets = list(self._sockets.get((tenant_id, store_code), ()))
        if not sockets:
            return 0
        text = json.dumps(message)
        results = await asyncio.gather(
            *(socket.send_text(text) for socket in sockets), return_exceptions=True
        )
        sent = 0
        for socket, result in zip(sockets, results, strict=True):
            if isinstance(result, BaseException):
                log.info("alert_socket_dropped", tenant_id=tenant_id, store_code=store_code)
                self.remove(tenant_id, store_code, socket)
            else:
                sent += 1
        return sent
