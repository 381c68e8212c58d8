"""The raw logs a consumer keeps of the three log topics (Journal and Report both do).

Each collection holds the log exactly as published, minus the envelope keys (`event_id`,
`event_type`), unique on the log's natural key (report-journal-events §1.7, §2.1):

- `log_tran`: tenant_id, store_code, terminal_no, transaction_no;
- `log_cash_in_out`: tenant_id, store_code, terminal_no, business_date, open_counter,
  generate_date_time;
- `log_open_close`: tenant_id, store_code, terminal_no, business_date, open_counter, operation.

The publisher's own storage fields (`created_at`, `updated_at`, usually null, sometimes an ISO
string) describe the publisher's copy, not this one: they are replaced by this consumer's
audit fields, so every stored document has a real `created_at` of the same type.
Amounts stay the JSON numbers they arrived as (a double holds them exactly, see `money`).

    await RAW_LOGS[TOPIC_TRANLOG](delivery.db, actor="journal").store(delivery.log,
                                                                   session=delivery.session)
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import ConfigDict
from pymongo.asynchronous.client_session import AsyncClientSession

from ..clock import utcnow
from ..db.documents import Document
from ..db.indexes import index
from ..db.repository import Repository
from .logs import TOPIC_CASHLOG, TOPIC_OPENCLOSELOG, TOPIC_TRANLOG, InboundLog

_TERMINAL = ("tenant_id", "store_code", "terminal_no")
_SESSION = (*_TERMINAL, "business_date", "open_counter")
_PUBLISHER_FIELDS = ("created_at", "updated_at", "created_by", "updated_by")


class RawLog(Document):
    """A stored raw log: the common keys checked, everything else kept as it came."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    tenant_id: str
    store_code: str
    terminal_no: int
    business_date: str
    shard_key: str | None = None


def raw_document(log_: InboundLog, *, actor: str | None = None) -> dict[str, Any]:
    """What is stored for one log (pure: no I/O)."""
    doc = {k: v for k, v in log_.raw().items() if k not in _PUBLISHER_FIELDS}
    doc.update(
        created_at=utcnow(),
        updated_at=None,
        created_by=actor,
        updated_by=None,
        shard_key=doc.get("shard_key")
        or f"{log_.tenant_id}_{log_.store_code}_{log_.terminal_no}_{log_.business_date}",
    )
    return doc


class RawLogRepository(Repository[RawLog]):
    document_type = RawLog
    topic: ClassVar[str]

    async def store(self, log_: InboundLog, *, session: AsyncClientSession | None = None) -> None:
        """Insert; a second copy of the same log raises `DuplicateKeyError` (unique natural
        key), which `EventConsumer.apply` turns into "duplicate" and rolls back."""
        await self.collection.insert_one(raw_document(log_, actor=self.actor), session=session)


class RawTranLogRepository(RawLogRepository):
    collection_name = "log_tran"
    topic = TOPIC_TRANLOG
    indexes = (index(*_TERMINAL, "transaction_no", unique=True),)


class RawCashLogRepository(RawLogRepository):
    collection_name = "log_cash_in_out"
    topic = TOPIC_CASHLOG
    indexes = (index(*_SESSION, "generate_date_time", unique=True),)


class RawOpenCloseLogRepository(RawLogRepository):
    collection_name = "log_open_close"
    topic = TOPIC_OPENCLOSELOG
    indexes = (index(*_SESSION, "operation", unique=True),)


RAW_LOGS: dict[str, type[RawLogRepository]] = {
    repo.topic: repo
    for repo in (RawTranLogRepository, RawCashLogRepository, RawOpenCloseLogRepository)
}
