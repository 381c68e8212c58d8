"""Direct transaction intake: a transaction log posted over HTTP instead of pub/sub.

It goes through the consumer's `apply` like a delivery, under the deterministic event id
`direct:<natural key>`: a repeat of the post is a duplicate by id, and the same log arriving
later on `tranlog_report` (under its own event id) is a duplicate by natural key.
"""

from __future__ import annotations

from pymongo.errors import PyMongoError

from ..errors import AppError
from .consumer import Applied, EventConsumer, EventRejected
from .logs import TOPIC_TRANLOG, TransactionLog

DIRECT = "direct:"


def direct_event_id(log_: TransactionLog) -> str:
    return f"{DIRECT}{log_.natural_key()}"


class TransactionIntake:
    """`invalid` is the service's 400 for a log it refuses; `not_stored` its error (with
    message) for a database fault, so each service keeps its own v1 error codes."""

    def __init__(
        self,
        consumer: EventConsumer,
        *,
        invalid: type[AppError],
        not_stored: tuple[type[AppError], str],
    ) -> None:
        self._consumer = consumer
        self._invalid = invalid
        self._not_stored = not_stored

    async def receive(
        self, tenant_id: str, store_code: str, terminal_no: int, log_: TransactionLog
    ) -> Applied:
        if (log_.tenant_id, log_.store_code, log_.terminal_no) != (
            tenant_id,
            store_code,
            terminal_no,
        ):
            raise self._invalid(
                "tenant_id, store_code and terminal_no of the body must match the path"
            )
        try:
            return await self._consumer.apply(TOPIC_TRANLOG, log_, event_id=direct_event_id(log_))
        except EventRejected as exc:
            raise self._invalid(str(exc)) from exc
        except AppError:
            raise
        except PyMongoError as exc:
            error, message = self._not_stored
            raise error(message) from exc
