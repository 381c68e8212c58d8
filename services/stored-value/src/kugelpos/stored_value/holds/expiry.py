"""The release of holds nobody captured: every replica polls every tenant; each release is a
conditional update (open -> released), so replicas need no lease to release a hold once."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import structlog

from kugelpos.common.clock import utcnow
from kugelpos.common.db.mongo import Mongo
from kugelpos.common.jobs import Poller

from .service import HoldService

log = structlog.get_logger(__name__)


class HoldExpiry(Poller):
    check = "hold_expiry"

    def __init__(self, mongo: Mongo, holds: HoldService, *, poll_seconds: float, enabled: bool):
        super().__init__(poll_seconds=poll_seconds, enabled=enabled)
        self._mongo = mongo
        self._holds = holds
        self.released = 0

    async def poll(self, now: datetime | None = None) -> int:
        now = now or utcnow()
        self.last_poll = now
        released = 0
        for tenant_id in await self._mongo.tenant_ids():
            released += await self._holds.release_due(tenant_id, now)
        self.released += released
        if released:
            log.info("holds_expired", released=released)
        return released

    def details(self) -> dict[str, Any]:
        return {"released": self.released}
