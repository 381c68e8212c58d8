"""What the journal subscribes: the three log topics (it publishes only acknowledgements).

Each delivery is applied exactly once by `EventConsumer` (commons): in one MongoDB transaction
the inbox record, the raw log (`log_tran`, `log_cash_in_out`, `log_open_close`) and its journal
entry; then `received` on `tranlog_status`. The direct intake endpoint goes through the same
`apply`, so a log that arrives both ways is journalled once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kugelpos.common.db.repository import Repository
from kugelpos.common.events.consumer import Delivery, EventConsumer
from kugelpos.common.events.logs import TOPIC_CASHLOG, TOPIC_OPENCLOSELOG, TOPIC_TRANLOG, InboundLog
from kugelpos.common.events.raw_logs import RAW_LOGS

from .journals import entries
from .journals.documents import JournalDocument
from .journals.repository import JournalRepository

SERVICE = "journal"

# Everything a tenant's journal database holds (created at tenant setup and before the
# first event of a tenant this process has not seen).
REPOSITORIES: tuple[type[Repository], ...] = (JournalRepository, *RAW_LOGS.values())


# The journal entry of each kind of log.
ENTRIES: dict[str, Callable[[Any], JournalDocument]] = {
    TOPIC_TRANLOG: entries.from_tranlog,
    TOPIC_CASHLOG: entries.from_cashlog,
    TOPIC_OPENCLOSELOG: entries.from_opencloselog,
}


async def _journal(delivery: Delivery[InboundLog]) -> None:
    entry = ENTRIES[delivery.topic](delivery.log)
    await RAW_LOGS[delivery.topic](delivery.db, actor=SERVICE).store(
        delivery.log, session=delivery.session
    )
    # A unique-key violation here rolls the whole event back as a duplicate (consumer).
    await JournalRepository(delivery.db, actor=SERVICE).create(entry, session=delivery.session)


class JournalEvents:
    def __init__(self) -> None:
        self.consumer = EventConsumer(SERVICE, repositories=REPOSITORIES)
        self.consumer.consume_logs(_journal)
