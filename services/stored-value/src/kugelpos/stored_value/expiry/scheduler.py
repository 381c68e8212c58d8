"""The daily expiry run (§B9, like stock's snapshots): every replica polls; for each tenant
whose settings expire cards, the day's run is due at `EXPIRY_RUN_HOUR` in the app time zone,
and whoever claims `expiry_<tenant>:<day>` first (commons.jobs) runs it; a replica that dies
mid-run is replaced when its lease expires (each card's expiry is itself once-only, so a
taken-over run repeats nothing)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from kugelpos.common.db.mongo import Mongo
from kugelpos.common.jobs import DailyJob

from ..config import StoredValueSettings
from .repository import ExpiryRunRepository
from .service import ExpiryService


class ExpiryScheduler(DailyJob):
    name = "expiry"
    runs = ExpiryRunRepository

    def __init__(self, mongo: Mongo, expiry: ExpiryService, settings: StoredValueSettings):
        super().__init__(
            mongo,
            service="stored-value",
            timezone=settings.timezone,
            run_hour=settings.expiry_run_hour,
            poll_seconds=settings.expiry_poll_seconds,
            lease_seconds=settings.expiry_lease_seconds,
            enabled=settings.expiry_scheduler_enabled,
        )
        self._expiry = expiry

    async def wanted(self, tenant_id: str) -> bool:
        settings = await self._expiry.settings(tenant_id)
        return settings.gift_expiry_days is not None or settings.credit_expiry_days is not None

    async def work(self, tenant_id: str, now: datetime) -> dict[str, Any]:
        expired = await self._expiry.expire(tenant_id, now)
        return {"expired_cards": expired.cards, "breakage": expired.breakage}
