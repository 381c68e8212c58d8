"""Master-data change notices: after a write, master-data announces what changed on topic
`masterdata_changed`, so every process that caches master data (master-data's other
replicas, the cart) drops the entries at once instead of waiting for their TTL.

Best effort by design, so not through the outbox: a lost notice only means the TTL bounds
how long a stale price can live, and a notice never delays the write that caused it.
"""

from __future__ import annotations

import asyncio
from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any

import structlog

from ..clients.dapr import DaprClientHelper
from ..errors import AppError

log = structlog.get_logger(__name__)

MASTERDATA_CHANGED = "masterdata_changed"
# A component whose consumer group is per sidecar instance, so every replica hears a notice
# (on the shared `pubsub` component, replicas of one app compete for each message).
BROADCAST_PUBSUB = "pubsub-broadcast"


class ChangeKind(StrEnum):
    ITEM = "item"  # common item master: every store's view of the item
    STORE_ITEM = "store_item"
    PAYMENT = "payment"
    SETTING = "setting"
    PROMOTION = "promotion"
    TENANT = "tenant"  # anything of the tenant


@dataclass(frozen=True, slots=True)
class MasterChange:
    tenant_id: str
    kind: ChangeKind
    code: str | None = None  # item code, payment code, setting name, promotion code
    store_code: str | None = None

    def to_event(self) -> dict[str, Any]:
        return {**asdict(self), "kind": self.kind.value}

    @classmethod
    def from_event(cls, data: Any) -> MasterChange | None:
        """None for anything that is not a well-formed notice."""
        if not isinstance(data, dict) or not isinstance(data.get("tenant_id"), str):
            return None
        try:
            kind = ChangeKind(data.get("kind"))
        except ValueError:
            return None
        code, store = data.get("code"), data.get("store_code")
        return cls(
            tenant_id=data["tenant_id"],
            kind=kind,
            code=code if isinstance(code, str) else None,
            store_code=store if isinstance(store, str) else None,
        )


class ChangeAnnouncer:
    """Publishes notices in the background; the caller never waits for the sidecar."""

    def __init__(self, dapr: DaprClientHelper, pubsub: str = BROADCAST_PUBSUB) -> None:
        self._dapr = dapr
        self._pubsub = pubsub
        self._pending: set[asyncio.Task[None]] = set()

    def announce(self, change: MasterChange) -> None:
        task = asyncio.get_running_loop().create_task(self._publish(change))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def _publish(self, change: MasterChange) -> None:
        try:
            await self._dapr.publish(self._pubsub, MASTERDATA_CHANGED, change.to_event())
        except AppError as exc:
            log.warning("master_change_not_announced", kind=change.kind, error=exc.message)

    async def drain(self) -> None:
        """Wait for notices in flight (shutdown, tests)."""
        if self._pending:
            await asyncio.gather(*self._pending, return_exceptions=True)
