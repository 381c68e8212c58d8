"""A publishing service's event machinery in one place: its outbox, the relay that publishes
it, and the `tranlog_status` subscription that records consumers' acknowledgements.

Created with the service's wiring (so its subscriptions can be routed) and brought to life in
the lifespan: the wiring's `subscriptions` are `events.subscriptions`, its `health_checks`,
`start` and `stop` call this class's. A service adds its own subscriptions to `subscriptions`.
`health_checks` gives `/health` the `background_jobs` check v1 monitoring reads, so every
service that publishes through this class reports its relay the same way.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from ..infrastructure import Infrastructure
from ..observability.health import BACKGROUND_JOBS_CHECK, HealthCheck, background_jobs
from .acks import ACK_TOPIC, acknowledgement_handler, acknowledgements_for
from .config import OutboxSettings
from .outbox import Outbox, RelayStatus
from .relay import OutboxRelay, relay_from_settings
from .subscriptions import CloudEvent, DaprSubscriptions, Outcome


class OutboxEvents:
    def __init__(self, settings: OutboxSettings) -> None:
        self.settings = settings
        self.subscriptions = DaprSubscriptions(pubsub=settings.pubsub_name)
        self.subscriptions.add(
            ACK_TOPIC, self._on_status, match=acknowledgements_for(settings.event_consumers)
        )
        self.outbox: Outbox | None = None
        self.relay: OutboxRelay | None = None
        self.infra: Infrastructure | None = None
        self._scraping = False

    async def _on_status(self, event: CloudEvent) -> Outcome:
        if self.outbox is None:
            return Outcome.RETRY  # not started yet
        return await acknowledgement_handler(self.outbox)(event)

    async def start(self, infra: Infrastructure) -> None:
        self.infra = infra
        outbox = Outbox(
            infra.mongo.commons_db(),
            pubsub=self.settings.pubsub_name,
            consumers=self.settings.event_consumers,
            failed_tries=self.settings.event_retry_tries,
        )
        await outbox.ensure_indexes()
        self.outbox = outbox
        self.relay = relay_from_settings(outbox, infra.dapr, self.settings)
        self.relay.start()
        # Read when scraped rather than kept by the relay: the relay knows what it published,
        # not what consumers acknowledged since (acknowledgements reach any replica).
        if not self._scraping:  # once, however often started
            self._scraping = True
            infra.metrics.on_scrape(
                self._scrape_backlog, min_interval=self.settings.metrics_outbox_interval_seconds
            )

    async def _scrape_backlog(self) -> None:
        if self.outbox is None or self.infra is None:
            return
        backlog = await self.outbox.backlog()
        self.infra.metrics.outbox(
            pending=backlog.pending,
            unacknowledged=backlog.unacknowledged,
            oldest_seconds=backlog.oldest_seconds,
            given_up=backlog.given_up,
        )

    async def stop(self, infra: Infrastructure) -> None:
        if self.relay is not None:
            await self.relay.stop()

    def started_outbox(self) -> Outbox:
        """The outbox `start` opened (in a served app, always: the lifespan ran)."""
        if self.outbox is None:
            raise RuntimeError("outbox not started")
        return self.outbox

    # ---- /health -----------------------------------------------------------------------------

    BACKGROUND_JOBS_CHECK = BACKGROUND_JOBS_CHECK
    RELAY_JOB = "outbox_relay"
    _UNPUBLISHED = {
        "relay_status": {"$in": [RelayStatus.PENDING.value, RelayStatus.PUBLISHING.value]}
    }

    def health_checks(self, infra: Infrastructure) -> dict[str, HealthCheck]:
        """`background_jobs`: healthy while the relay (which also republishes what consumers
        have not acknowledged, v1's `republish_undelivered_*` job) runs. `details` carries v1's
        `scheduler_running`, `job_count`, `job_names` (`["outbox_relay"]`) and this project's
        backlog and last round. It only reads: unlike v1's, no health check publishes anything
        into a business topic."""
        return {self.BACKGROUND_JOBS_CHECK: self._background_jobs}

    async def _background_jobs(self) -> dict[str, Any]:
        relay, outbox = self.relay, self.outbox
        running = relay is not None and outbox is not None and relay.running
        details: dict[str, Any] = {
            "jobs": [self.RELAY_JOB],
            "running": running,
            "owner": relay.owner if relay is not None else None,
        }
        if not running:
            return background_jobs({self.RELAY_JOB: False}, details)  # raises: unhealthy
        assert relay is not None and outbox is not None
        backlog = await outbox.collection.count_documents(self._UNPUBLISHED)
        details |= {
            "backlog": backlog,
            "last_run": relay.last_run_at.isoformat() if relay.last_run_at else None,
            "last_error": relay.last_error,
        }
        return background_jobs({self.RELAY_JOB: True}, details)


class DeliveryStatusUpdateRequest(BaseModel):
    """The v1 delivery-status callback body: snake_case only, as consumers send it."""

    event_id: str = Field(min_length=1, max_length=128)
    service: str = Field(min_length=1, max_length=64)
    status: Literal["received", "failed"]
    message: str | None = Field(default=None, max_length=1000)


class DeliveryStatusUpdateResponse(BaseModel):
    event_id: str
    service: str
    status: str
    success: bool = True
    # Added to v1: the event's overall delivery status after this update.
    overall_status: str | None = None
