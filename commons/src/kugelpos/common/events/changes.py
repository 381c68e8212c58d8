"""Change notices on the broadcast pub/sub, so every process that caches something drops it
at once instead of waiting for its TTL:

- `masterdata_changed`: after a write, master-data announces what changed (master-data's
  other replicas and the cart drop their cached reads);
- `terminal_changed`: after a terminal's key, state or existence changed, the terminal
  service announces it (every service drops its cached approvals of that terminal's
  credentials, so a rotated key or a deleted or closed terminal is refused within moments).

Best effort by design, so not through the outbox: a lost notice only means the TTL bounds
how long a stale entry can live, and a notice never delays the write that caused it.
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
TERMINAL_CHANGED = "terminal_changed"
# A component whose consumer group is per sidecar instance, so every replica hears a notice
# (on the shared `pubsub` component, replicas of one app compete for each message).
BROADCAST_PUBSUB = "pubsub-broadcast"


class ChangeKind(StrEnum):
    ITEM = "item"  # common item master: every store's view of the item
    STORE_ITEM = "store_item"
    PAYMENT = "payment"
    PARAMETER = "setting"  # the parameter master (v1: settings master; the value is on the wire)
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


@dataclass(frozen=True, slots=True)
class TerminalChange:
    """A terminal's credentials or state changed (key rotated, deleted, opened, closed,
    staff signed in or out): cached approvals of it are stale."""

    tenant_id: str
    terminal_id: str
    reason: str

    def to_event(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_event(cls, data: Any) -> TerminalChange | None:
        """None for anything that is not a well-formed notice."""
        if not isinstance(data, dict):
            return None
        tenant_id, terminal_id = data.get("tenant_id"), data.get("terminal_id")
        if not (isinstance(tenant_id, str) and tenant_id and isinstance(terminal_id, str)):
            return None
        if not terminal_id.startswith(f"{tenant_id}-"):
            return None  # a terminal id embeds its tenant
        reason = data.get("reason")
        return cls(tenant_id, terminal_id, reason if isinstance(reason, str) else "")


type Notice = MasterChange | TerminalChange
_TOPICS: dict[type, str] = {MasterChange: MASTERDATA_CHANGED, TerminalChange: TERMINAL_CHANGED}


class ChangeAnnouncer:
    """Publishes notices in the background; the caller never waits for the sidecar."""

    def __init__(self, dapr: DaprClientHelper, pubsub: str = BROADCAST_PUBSUB) -> None:
        self._dapr = dapr
        self._pubsub = pubsub
        self._pending: set[asyncio.Task[None]] = set()

    def announce(self, change: Notice) -> None:
        task = asyncio.get_running_loop().create_task(self._publish(change))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def _publish(self, change: Notice) -> None:
        topic = _TOPICS[type(change)]
        try:
            await self._dapr.publish(self._pubsub, topic, change.to_event())
        except AppError as exc:
            log.warning("change_not_announced", topic=topic, error=exc.message)

    async def drain(self) -> None:
        """Wait for notices in flight (shutdown, tests)."""
        if self._pending:
            await asyncio.gather(*self._pending, return_exceptions=True)
