"""What master-data publishes and subscribes.

Publishes `masterdata_changed` (pub/sub `pubsub-broadcast`) after every write that can change
a cached read (see `cache.MasterCache.changed`). Subscribes to the same topic so its other
replicas drop their cached entries at once.
"""

from __future__ import annotations

from kugelpos.common.events.changes import BROADCAST_PUBSUB, MASTERDATA_CHANGED, MasterChange
from kugelpos.common.events.subscriptions import CloudEvent, DaprSubscriptions, Outcome
from kugelpos.common.web.app import Infrastructure

from .dependencies import master_cache


class MasterDataEvents:
    def __init__(self) -> None:
        self.subscriptions = DaprSubscriptions(pubsub=BROADCAST_PUBSUB)
        self.subscriptions.add(MASTERDATA_CHANGED, self._on_change)
        self.infra: Infrastructure | None = None

    async def start(self, infra: Infrastructure) -> None:
        self.infra = infra

    async def _on_change(self, event: CloudEvent) -> Outcome:
        change = MasterChange.from_event(event.data)
        if change is None:
            return Outcome.DROP
        if self.infra is not None:
            master_cache(self.infra).apply(change)
        return Outcome.SUCCESS
