"""Direct transaction intake: a transaction log posted over HTTP instead of pub/sub.

It goes through the consumer's `apply` like a delivery, under the deterministic event id
`direct:<natural key>`: a repeat of the post is a duplicate by id, and the same log arriving
later on `tranlog_report` (under its own event id) is a duplicate by natural key.
"""

from __future__ import annotations

from pymongo.errors import PyMongoError

from kugelpos.common.errors import AppError
from kugelpos.common.events.consumer import Applied, EventConsumer, EventRejected
from kugelpos.common.events.logs import TOPIC_TRANLOG, TransactionLog

from ..errors import JournalCreationError, TransactionValidationError

DIRECT = "direct:"


def direct_event_id(log_: TransactionLog) -> str:
    return f"{DIRECT}{log_.natural_key()}"


class TransactionIntake:
    def __init__(self, consumer: EventConsumer) -> None:
        self._consumer = consumer

    async def receive(
        self, tenant_id: str, store_code: str, terminal_no: int, log_: TransactionLog
    ) -> Applied:
        if (log_.tenant_id, log_.store_code, log_.terminal_no) != (
            tenant_id,
            store_code,
            terminal_no,
        ):
            raise TransactionValidationError(
                "tenant_id, store_code and terminal_no of the body must match the path"
            )
        try:
            return await self._consumer.apply(TOPIC_TRANLOG, log_, event_id=direct_event_id(log_))
        except EventRejected as exc:
            raise TransactionValidationError(str(exc)) from exc
        except AppError:
            raise
        except PyMongoError as exc:
            raise JournalCreationError("Transaction could not be journalled") from exc
