"""The inbox of a consuming service: one `processed_events` document per event it applied.

Written in the same MongoDB transaction as the consumer's own writes for the event, so "applied"
and "recorded as applied" cannot disagree. Two unique keys make a second delivery a no-op:
the event id (Dapr redelivery, the publisher's republish) and the event's natural key (the same
log sent again under another event id, as v1's republisher and the direct intake endpoints do).
"""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from ..clock import utcnow
from ..db.documents import Document
from ..db.indexes import index
from ..db.repository import Repository

PROCESSED_EVENTS = "processed_events"


class ProcessedEvent(Document):
    event_id: str
    topic: str
    # `<topic>:<natural key of the log>`, e.g. `tranlog_report:S1:1:42`.
    natural_key: str
    processed_at: datetime = Field(default_factory=utcnow)


class InboxRepository(Repository[ProcessedEvent]):
    collection_name = PROCESSED_EVENTS
    document_type = ProcessedEvent
    indexes = (
        index("event_id", unique=True),
        index("natural_key", unique=True),
    )
