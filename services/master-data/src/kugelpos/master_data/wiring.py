"""The master-data service's process-wide objects, built once with the app."""

from __future__ import annotations

from kugelpos.common.events.changes import ChangeAnnouncer
from kugelpos.common.observability.health import HealthCheck
from kugelpos.common.wiring import RemoteTerminalsWiring

from .cache import MasterCache
from .changes.compaction import ChangeLogCompaction
from .changes.log import ChangeLog
from .config import MasterDataSettings
from .events import MasterDataEvents


class MasterDataWiring(RemoteTerminalsWiring[MasterDataSettings]):
    def __init__(self, settings: MasterDataSettings) -> None:
        super().__init__(settings)
        # The hot read path's cache; a write announces what it changed to every replica.
        self.cache = MasterCache(
            ttl=settings.cache_ttl_seconds,
            max_entries=settings.cache_max_entries,
            announce=ChangeAnnouncer(self.infra.dapr).announce,
        )
        # Every write's log entry (the store's data feed, issue 27).
        self.changes = ChangeLog(self.infra.mongo, settings)
        # ... compacted once a day past its retention (a leased run per tenant).
        self.compaction = ChangeLogCompaction(self.infra.mongo, settings)
        self.events = MasterDataEvents(self.cache)
        self.subscriptions = self.events.subscriptions
        self.pin_limiter = self.infra.limiter(
            "staff-pin-failures",
            free_attempts=settings.pin_max_failures,
            forget_after_seconds=settings.pin_failure_window_seconds,
            base_delay_seconds=settings.pin_delay_seconds,
            max_delay_seconds=settings.pin_max_delay_seconds,
        )

    def health_checks(self) -> dict[str, HealthCheck]:
        return {**super().health_checks(), **self.compaction.health_checks()}

    async def start(self) -> None:
        await super().start()
        await self.compaction.start()

    async def stop(self) -> None:
        await self.compaction.stop()
        await super().stop()
