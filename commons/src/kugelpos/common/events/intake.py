"""Direct transaction intake: a transaction log posted over HTTP instead of pub/sub.

It goes through the consumer's `apply` like a delivery, under the deterministic event id
`direct:<natural key>:<content digest>`: a repeat of the post is a duplicate by id, and the
same log arriving later on `tranlog_report` (under its own event id) is a duplicate by natural
key and content. Another log under a natural key already received (a different sale with the
same terminal and number, a forged return beside the real sale) is refused with the service's
409 (`conflict`), whichever way either of them came.
"""

from __future__ import annotations

from pymongo.errors import PyMongoError

from ..errors import AlreadyExistsError, AppError
from .consumer import Applied, EventConflict, EventConsumer, EventRejected
from .inbox import content_digest
from .logs import TOPIC_TRANLOG, TransactionLog

DIRECT = "direct:"


def direct_event_id(log_: TransactionLog) -> str:
    return f"{DIRECT}{log_.natural_key()}:{content_digest(log_)[:16]}"


class TransactionIntake:
    """`invalid` is the service's 400 for a log it refuses; `not_stored` its error (with
    message) for a database fault; `conflict` its 409 for another log under a natural key
    already received. Each service keeps its own error codes."""

    def __init__(
        self,
        consumer: EventConsumer,
        *,
        invalid: type[AppError],
        not_stored: tuple[type[AppError], str],
        conflict: type[AppError] = AlreadyExistsError,
    ) -> None:
        self._consumer = consumer
        self._invalid = invalid
        self._not_stored = not_stored
        self._conflict = conflict

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
        except EventConflict as exc:
            raise self._conflict(
                f"Transaction {log_.transaction_no} of terminal {store_code}-{terminal_no} was "
                "received already with other content; nothing was written"
            ) from exc
        except EventRejected as exc:
            raise self._invalid(str(exc)) from exc
        except AppError:
            raise
        except PyMongoError as exc:
            error, message = self._not_stored
            raise error(message) from exc
