"""Dead letters of a consuming service: events whose handler kept failing.

A handler error that is not a database or dependency outage (a bug) is counted per event id in
the tenant's `dead_letters` collection, whichever sidecar message or republished copy brought
the event: the second try runs at once, the next ones after the policy's backoff. After
`tries` tries the event is a dead letter: kept here with its payload as received, its message
dropped (Dapr moves it to the subscription's `deadLetterTopic`), and its publisher told that
this consumer will not take it again (it stops republishing it: `given_up`). An operator lists
and replays dead letters once the bug is fixed (`EventConsumer.replay`).

Nothing here runs for an event whose handler succeeds: a first delivery costs no read and no
write of this collection. Which events wait for their next try is kept in memory
(`ParkedEvents`): a redelivery before its time is answered RETRY without running the handler
or reading anything. After a restart, or on another replica, the next delivery is tried at
once and counted: the bound on tries holds, only the spacing may be shorter.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Literal

from pydantic import Field
from pymongo import ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase

from ..clock import utcnow
from ..db.documents import Document
from ..db.indexes import index
from ..db.repository import Repository

DEAD_LETTERS = "dead_letters"
# Entries of `ParkedEvents` kept at most (an event id and a float each).
_MAX_PARKED = 10_000


class DeadLetterState(StrEnum):
    RETRYING = "retrying"  # failed, tries left: redelivered after its backoff
    DEAD = "dead"  # out of tries: waits for a replay
    REPLAYED = "replayed"  # an operator's replay applied it (or found it applied)
    RESOLVED = "resolved"  # a later delivery applied it (the fault went away by itself)
    REJECTED = "rejected"  # a replay found the log refused for good (EventRejected)


# Waiting for something: what `replay_all` takes and what a list shows by default.
OPEN_STATES = (DeadLetterState.RETRYING, DeadLetterState.DEAD)
DONE_STATES = (DeadLetterState.REPLAYED, DeadLetterState.RESOLVED)


class DeadLetter(Document):
    event_id: str
    tenant_id: str
    topic: str
    natural_key: str | None = None
    state: DeadLetterState = DeadLetterState.RETRYING
    attempts: int = 0
    first_failed_at: datetime | None = None
    last_failed_at: datetime | None = None
    # When the next try may run (None once dead, or when none is waited for).
    next_attempt_at: datetime | None = None
    dead_at: datetime | None = None
    # The exception's type and text (never a stack trace: that is in the service log).
    last_error: str | None = None
    # The event as it was delivered (the log and its `event_id`), what a replay applies.
    payload: dict[str, Any] = Field(default_factory=dict)
    replayed_at: datetime | None = None
    replayed_by: str | None = None
    # What the last replay did: applied, duplicate, dropped, rejected, failed.
    replay_outcome: str | None = None


class DeadLetterRepository(Repository[DeadLetter]):
    collection_name = DEAD_LETTERS
    document_type = DeadLetter
    indexes = (
        index("event_id", unique=True),
        index("state", "first_failed_at"),
    )


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How often a handler error is tried, and how far apart."""

    tries: int = 5
    base_seconds: float = 120.0

    def delay_after(self, attempt: int) -> float:
        """Seconds between try `attempt` (from 1) and the next: the second try at once (a
        one-off fault, e.g. a race, is over by then), then base, 2 x base, 4 x base..."""
        if attempt <= 1:
            return 0.0
        return self.base_seconds * 2 ** min(attempt - 2, 32)

    @classmethod
    def from_settings(cls, settings: Any) -> RetryPolicy:
        return cls(
            tries=max(1, int(getattr(settings, "event_retry_tries", cls.tries))),
            base_seconds=max(0.0, float(getattr(settings, "event_retry_base_seconds", 120.0))),
        )


class ParkedEvents:
    """This process's events waiting for their next try (monotonic time), or dead."""

    DEAD = float("inf")

    def __init__(self, max_entries: int = _MAX_PARKED) -> None:
        self._until: dict[str, float] = {}
        self._max = max_entries

    def check(self, event_id: str) -> Literal["run", "wait", "dead"]:
        until = self._until.get(event_id)
        if until is None:
            return "run"
        if until == self.DEAD:
            return "dead"
        return "wait" if time.monotonic() < until else "run"

    def park(self, event_id: str, seconds: float) -> None:
        self._set(event_id, time.monotonic() + seconds)

    def bury(self, event_id: str) -> None:
        self._set(event_id, self.DEAD)

    def forget(self, event_id: str) -> bool:
        return self._until.pop(event_id, None) is not None

    def __contains__(self, event_id: str) -> bool:
        return event_id in self._until

    def _set(self, event_id: str, until: float) -> None:
        self._until.pop(event_id, None)
        self._until[event_id] = until
        while len(self._until) > self._max:  # the oldest first (insertion order)
            del self._until[next(iter(self._until))]


@dataclass(frozen=True, slots=True)
class Failure:
    """A handler error as counted: the dead letter after it, and whether this try made it
    dead (the first time only, so the metric and the alert count each dead letter once)."""

    letter: DeadLetter
    newly_dead: bool


async def record_failure(
    db: AsyncDatabase,
    *,
    event_id: str,
    tenant_id: str,
    topic: str,
    natural_key: str | None,
    payload: dict[str, Any],
    error: str,
    policy: RetryPolicy,
) -> Failure:
    """Count one failed try of `event_id` (two commands at most, only on this error path)."""
    collection = db[DEAD_LETTERS]
    now = utcnow()
    raw = await collection.find_one_and_update(
        {"_id": event_id},
        {
            "$inc": {"attempts": 1},
            "$set": {"last_failed_at": now, "last_error": error[:1000], "updated_at": now},
            "$setOnInsert": {
                "event_id": event_id,
                "tenant_id": tenant_id,
                "topic": topic,
                "natural_key": natural_key,
                "payload": payload,
                "state": DeadLetterState.RETRYING.value,
                "first_failed_at": now,
                "created_at": now,
            },
        },
        upsert=True,
        return_document=ReturnDocument.AFTER,
    )
    attempts = int(raw.get("attempts") or 1)
    state = raw.get("state")
    newly_dead = False
    if attempts >= policy.tries:
        if state != DeadLetterState.DEAD.value:
            changed = await collection.update_one(
                {"_id": event_id, "state": {"$ne": DeadLetterState.DEAD.value}},
                {
                    "$set": {
                        "state": DeadLetterState.DEAD.value,
                        "dead_at": now,
                        "next_attempt_at": None,
                    }
                },
            )
            newly_dead = changed.modified_count == 1
            raw.update(state=DeadLetterState.DEAD.value, dead_at=now, next_attempt_at=None)
    else:
        due = now + timedelta(seconds=policy.delay_after(attempts))
        await collection.update_one({"_id": event_id}, {"$set": {"next_attempt_at": due}})
        raw["next_attempt_at"] = due
    raw.pop("_id", None)
    return Failure(DeadLetter.model_validate(raw), newly_dead)
