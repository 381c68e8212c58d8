"""The stock service's process-wide objects, built once with the app."""

from __future__ import annotations

from kugelpos.common.clients.services import ServiceCaller
from kugelpos.common.observability.health import (
    DAPR_STATESTORE_CHECK,
    HealthCheck,
    state_store_check,
)
from kugelpos.common.wiring import ConsumerWiring

from .alerts.hub import AlertHub
from .alerts.service import AlertService
from .config import StockSettings
from .events import StockEvents
from .items import ItemMaster
from .schedules.scheduler import SnapshotScheduler


class StockWiring(ConsumerWiring[StockSettings]):
    def __init__(self, settings: StockSettings) -> None:
        super().__init__(settings)
        # Alerts: judged after a sale's commit, fanned out to every replica's sockets.
        self.alerts = AlertService(
            self.infra.dapr,
            AlertHub(),
            state_store=settings.alert_state_store,
            cooldown_seconds=settings.alert_cooldown_seconds,
        )
        self.events = StockEvents(self.alerts)
        self.consumer = self.events.consumer
        self.scheduler = SnapshotScheduler(self.infra.mongo, settings)
        # Back-office requests check their items with master-data (stock has no item master).
        self.items = ItemMaster(
            ServiceCaller(self.infra.http, self.infra.auth.codec, service="stock"),
            settings.base_url_master_data,
        )

    def health_checks(self) -> dict[str, HealthCheck]:
        # The state store named as v1 monitors read it: here the alerts' cooldown store.
        dapr_statestore = state_store_check(self.infra.dapr, self.settings.alert_state_store)
        return {**self.scheduler.health_checks(), DAPR_STATESTORE_CHECK: dapr_statestore}

    async def start(self) -> None:
        await super().start()
        await self.scheduler.start()

    async def stop(self) -> None:
        await self.scheduler.stop()
