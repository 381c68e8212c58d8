"""The release of holds nobody captured: every replica polls every tenant; each release is a
conditional update (open -> released), so replicas need no lease to release a hold once."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import datetime
from typing import Any

import structlog

from kugelpos.common.clock import utcnow
from kugelpos.common.db.mongo import Mongo
from kugelpos.common.observability.health import HealthCheck

from .service import HoldService

log = structlog.get_logger(__name__)


class HoldExpiry:
    def __init__(self, mongo: Mongo, holds: HoldService, *, poll_seconds: float, enabled: bool):
        self._mongo = mongo
        self._holds = holds
        self._poll_seconds = poll_seconds
        self._enabled = enabled
        self._task: asyncio.Task[None] | None = None
        self.last_poll: datetime | None = None
        self.last_error: str | None = None
        self.released = 0

    async def start(self) -> None:
        if self._enabled:
            self._task = asyncio.get_running_loop().create_task(self._loop())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task

    async def poll(self, now: datetime | None = None) -> int:
        now = now or utcnow()
        self.last_poll = now
        released = 0
        for tenant_id in await self._mongo.tenant_ids():
            released += await self._holds.release_due(tenant_id, now)
        self.released += released
        return released

    async def _loop(self) -> None:
        while True:
            try:
                if released := await self.poll():
                    log.info("holds_expired", released=released)
                self.last_error = None
            except Exception as exc:  # a bad poll must not end the loop
                self.last_error = type(exc).__name__
                log.warning("hold_expiry_poll_failed", error=type(exc).__name__)
            await asyncio.sleep(self._poll_seconds)

    def health_checks(self) -> dict[str, HealthCheck]:
        async def hold_expiry() -> dict[str, Any]:
            if self._enabled and (self._task is None or self._task.done()):
                raise RuntimeError("hold expiry not running")
            return {
                "enabled": self._enabled,
                "last_poll": self.last_poll.isoformat() if self.last_poll else None,
                "last_error": self.last_error,
                "released": self.released,
            }

        return {"hold_expiry": hold_expiry}
