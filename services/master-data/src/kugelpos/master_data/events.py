"""What master-data publishes and subscribes.

Publishes `masterdata_changed` (pub/sub `pubsub-broadcast`) after every write that can change
a cached read (see `cache.MasterCache.changed`). Subscribes to the same topic so its other
replicas drop their cached entries at once.
"""

from __future__ import annotations

from kugelpos.common.events.changes import BROADCAST_PUBSUB, MASTERDATA_CHANGED, MasterChange
from kugelpos.common.events.subscriptions import CloudEvent, DaprSubscriptions, Outcome

from .cache import MasterCache


class MasterDataEvents:
    def __init__(self, cache: MasterCache) -> None:
        self.cache = cache
        self.subscriptions = DaprSubscriptions(pubsub=BROADCAST_PUBSUB)
        self.subscriptions.add(MASTERDATA_CHANGED, self._on_change)

    async def _on_change(self, event: CloudEvent) -> Outcome:
        change = MasterChange.from_event(event.data)
        if change is None:
            return Outcome.DROP
        self.cache.apply(change)
        return Outcome.SUCCESS
