"""The stored-value service's process-wide objects, built once with the app."""

from __future__ import annotations

from kugelpos.common.observability.health import HealthCheck
from kugelpos.common.wiring import ConsumerWiring

from .cards.service import CardService
from .config import StoredValueSettings
from .events import StoredValueEvents
from .expiry.scheduler import ExpiryScheduler
from .expiry.service import ExpiryService
from .holds.expiry import HoldExpiry
from .holds.service import HoldService
from .loads.service import LoadService

LOOKUP_NAMESPACE = "card_lookup"


class StoredValueWiring(ConsumerWiring[StoredValueSettings]):
    def __init__(self, settings: StoredValueSettings) -> None:
        super().__init__(settings)
        self.events = StoredValueEvents(max_balance=settings.max_balance)
        self.consumer = self.events.consumer
        # Failed card lookups per caller, across replicas (a till guessing numbers or PINs).
        limiter = self.infra.limiter(
            LOOKUP_NAMESPACE,
            free_attempts=settings.lookup_free_attempts,
            forget_after_seconds=settings.lookup_forget_after_seconds,
            base_delay_seconds=settings.lookup_base_delay_seconds,
            max_delay_seconds=settings.lookup_max_delay_seconds,
        )
        self.cards = CardService(
            self.infra.mongo,
            limiter,
            pin_rounds=settings.pin_hash_rounds,
            max_balance=settings.max_balance,
        )
        self.holds = HoldService(
            self.infra.mongo,
            self.cards,
            ttl_seconds=settings.hold_ttl_seconds,
            max_balance=settings.max_balance,
        )
        self.loads = LoadService(self.infra.mongo, max_balance=settings.max_balance)
        self.hold_expiry = HoldExpiry(
            self.infra.mongo,
            self.holds,
            poll_seconds=settings.hold_expiry_poll_seconds,
            enabled=settings.hold_expiry_enabled,
        )

        # Card expiry and breakage, daily, per the tenant's settings (leased run).
        self.expiry_service = ExpiryService(self.infra.mongo, max_balance=settings.max_balance)
        self.expiry_scheduler = ExpiryScheduler(self.infra.mongo, self.expiry_service, settings)

    def health_checks(self) -> dict[str, HealthCheck]:
        return {
            **super().health_checks(),
            **self.hold_expiry.health_checks(),
            **self.expiry_scheduler.health_checks(),
        }

    async def start(self) -> None:
        await super().start()
        await self.hold_expiry.start()
        await self.expiry_scheduler.start()

    async def stop(self) -> None:
        await self.hold_expiry.stop()
        await self.expiry_scheduler.stop()
