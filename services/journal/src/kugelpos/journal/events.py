"""What the journal subscribes: the three log topics (it publishes only acknowledgements).

Each delivery is applied exactly once by `EventConsumer` (commons): in one MongoDB transaction
the inbox record, the raw log (`log_tran`, `log_cash_in_out`, `log_open_close`) and its journal
entry; then `received` on `tranlog_status`. The direct intake endpoint goes through the same
`apply`, so a log that arrives both ways is journalled once.
"""

from __future__ import annotations

from kugelpos.common.db.repository import Repository
from kugelpos.common.events.consumer import Delivery, EventConsumer
from kugelpos.common.events.logs import (
    TOPIC_CASHLOG,
    TOPIC_OPENCLOSELOG,
    TOPIC_TRANLOG,
    CashLog,
    InboundLog,
    OpenCloseLog,
    TransactionLog,
)
from kugelpos.common.events.raw_logs import RAW_LOGS

from .journals import entries
from .journals.documents import JournalDocument
from .journals.repository import JournalRepository

SERVICE = "journal"

# Everything a tenant's journal database holds (created at tenant setup and before the
# first event of a tenant this process has not seen).
REPOSITORIES: tuple[type[Repository], ...] = (JournalRepository, *RAW_LOGS.values())


async def _journal(delivery: Delivery[InboundLog], entry: JournalDocument) -> None:
    await RAW_LOGS[delivery.topic](delivery.db, actor=SERVICE).store(
        delivery.log, session=delivery.session
    )
    # A unique-key violation here rolls the whole event back as a duplicate (consumer).
    await JournalRepository(delivery.db, actor=SERVICE).create(entry, session=delivery.session)


class JournalEvents:
    def __init__(self) -> None:
        self.consumer = EventConsumer(SERVICE, repositories=REPOSITORIES)
        consume = self.consumer.consume

        @consume(TOPIC_TRANLOG, TransactionLog, route="/api/v1/tranlog")
        async def on_tranlog(delivery: Delivery[TransactionLog]) -> None:
            await _journal(delivery, entries.from_tranlog(delivery.log))

        @consume(TOPIC_CASHLOG, CashLog, route="/api/v1/cashlog")
        async def on_cashlog(delivery: Delivery[CashLog]) -> None:
            await _journal(delivery, entries.from_cashlog(delivery.log))

        @consume(TOPIC_OPENCLOSELOG, OpenCloseLog, route="/api/v1/opencloselog")
        async def on_opencloselog(delivery: Delivery[OpenCloseLog]) -> None:
            await _journal(delivery, entries.from_opencloselog(delivery.log))
