"""What the report subscribes: the three log topics (it publishes only acknowledgements).

Each delivery is applied exactly once by `EventConsumer` (commons): in one MongoDB transaction
the inbox record, the raw log (`log_tran`, `log_cash_in_out`, `log_open_close`), its
contribution to the aggregates (`$inc` into its hour's and its session's documents) and the
session record; then `received` on `tranlog_status`. The direct intake endpoint goes through
the same `apply`.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from kugelpos.common.db.repository import Repository
from kugelpos.common.events.consumer import Delivery, EventConsumer
from kugelpos.common.events.logs import TOPIC_CASHLOG, TOPIC_OPENCLOSELOG, TOPIC_TRANLOG, InboundLog
from kugelpos.common.events.raw_logs import RAW_LOGS, raw_document

from .aggregates import AGGREGATE_REPOSITORIES, apply_log
from .figures import TOPIC_CASH, TOPIC_OPENCLOSE, TOPIC_TRAN

SERVICE = "report"

# Everything a tenant's report database holds (created at tenant setup and before the first
# event of a tenant this process has not seen).
REPOSITORIES: tuple[type[Repository], ...] = (*RAW_LOGS.values(), *AGGREGATE_REPOSITORIES)

KIND = {TOPIC_TRANLOG: TOPIC_TRAN, TOPIC_CASHLOG: TOPIC_CASH, TOPIC_OPENCLOSELOG: TOPIC_OPENCLOSE}


class ReportEvents:
    def __init__(self, timezone: str = "Asia/Tokyo") -> None:
        self.tz = ZoneInfo(timezone)
        self.consumer = EventConsumer(SERVICE, repositories=REPOSITORIES)
        self.consumer.consume_logs(self._store)

    async def _store(self, delivery: Delivery[InboundLog]) -> None:
        # The raw log first: a second copy under another id raises DuplicateKeyError and the
        # consumer rolls the whole event back (so the aggregates count it once).
        await RAW_LOGS[delivery.topic](delivery.db, actor=SERVICE).store(
            delivery.log, session=delivery.session
        )
        await apply_log(
            delivery.db,
            delivery.tenant_id,
            KIND[delivery.topic],
            raw_document(delivery.log),
            self.tz,
            session=delivery.session,
        )
