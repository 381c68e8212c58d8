"""A session the till carried on offline: its cash moves and its close, uploaded later.

The terminal was opened online; while the store was cut off it sold (the sales go to the
cart's offline intake), moved cash and closed. Once back, it uploads the cash moves and the
close here, for the session they belong to, as often as it must: each move is taken once (by
its `offlineId`), the close once. The close is applied after its sales: while the cart has
fewer of the session's sales than the close counts, it is refused (409 406302) and nothing is
written, so the drawer's expected cash includes every sale. Its transaction count and last
number are the till's own, so the daily report waits for exactly the sales the till made.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from zoneinfo import ZoneInfo

from kugelpos.common.auth.principal import Principal

from ..errors import (
    OfflineCloseCountError,
    OfflineCloseWaitsForSalesError,
    OfflineSessionMismatchError,
    TerminalStatusError,
)
from ..money import to_stored
from ..terminals.documents import TerminalDocument, TerminalStatus
from .documents import CashLogDocument, EventType, OpenCloseLogDocument
from .service import CartFigures, LifecycleService


class Outcome(StrEnum):
    ACCEPTED = "accepted"
    DUPLICATE = "duplicate"


@dataclass(frozen=True, slots=True)
class OfflineCashMove:
    offline_id: str
    amount: Decimal  # signed: positive in, negative out
    description: str | None
    moment: datetime


@dataclass(frozen=True, slots=True)
class OfflineClose:
    physical_amount: Decimal | None
    transaction_count: int
    last_transaction_no: int | None
    moment: datetime


@dataclass(frozen=True, slots=True)
class OfflineSessionResult:
    terminal: TerminalDocument
    cash_moves: list[tuple[str, Outcome]]
    close_log: OpenCloseLogDocument | None
    close_outcome: Outcome | None


class OfflineSessions:
    def __init__(self, lifecycle: LifecycleService, timezone: str) -> None:
        self._lifecycle = lifecycle
        self._zone = ZoneInfo(timezone)

    def _moment(self, moment: datetime) -> str:
        """The till's clock in the server's own form (the report compares them as text)."""
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=self._zone)
        return moment.astimezone(self._zone).isoformat()

    async def upload(
        self,
        actor: Principal,
        terminal_id: str,
        business_date: str,
        open_counter: int,
        moves: list[OfflineCashMove],
        close: OfflineClose | None,
    ) -> OfflineSessionResult:
        lifecycle = self._lifecycle
        terminal = await lifecycle.terminal(terminal_id)
        if terminal.business_date != business_date or terminal.open_counter != open_counter:
            raise OfflineSessionMismatchError(
                f"Session {business_date}/{open_counter} is not the current session of "
                f"terminal {terminal_id} ({terminal.business_date}/{terminal.open_counter})"
            )
        existing = await lifecycle.session_cash(terminal)
        seen = {e.offline_id for e in existing if e.offline_id}
        if terminal.status is TerminalStatus.CLOSED:
            return await self._resent(terminal, moves, close, seen)
        if terminal.status is not TerminalStatus.OPENED:
            raise TerminalStatusError(f"Terminal {terminal_id} has never been opened")

        store_name = await lifecycle.store_name(terminal)
        outcomes: list[tuple[str, Outcome]] = []
        new_logs: list[CashLogDocument] = []
        for move in moves:
            if move.offline_id in seen:
                outcomes.append((move.offline_id, Outcome.DUPLICATE))
                continue
            seen.add(move.offline_id)
            new_logs.append(
                lifecycle.cash_log(
                    terminal,
                    store_name,
                    move.amount,
                    move.description,
                    self._moment(move.moment),
                    offline_id=move.offline_id,
                )
            )
            outcomes.append((move.offline_id, Outcome.ACCEPTED))

        changes: dict = {"session_cash_count": terminal.session_cash_count + len(new_logs)}
        close_log = None
        if close is not None:
            figures = await lifecycle.cart_summary(terminal)
            arrived = figures.transaction_count
            if arrived is not None and arrived < close.transaction_count:
                raise OfflineCloseWaitsForSalesError(
                    f"The close counts {close.transaction_count} sales; {arrived} have "
                    "arrived. Upload the session's sales first"
                )
            if arrived is not None and arrived > close.transaction_count:
                raise OfflineCloseCountError(
                    f"The close counts {close.transaction_count} sales; the cart recorded "
                    f"{arrived} for this session"
                )
            close_log = lifecycle.close_log(
                terminal,
                store_name,
                [*existing, *new_logs],
                close.physical_amount,
                CartFigures(
                    close.transaction_count,
                    close.last_transaction_no,
                    figures.cash_sales_amount,
                ),
                self._moment(close.moment),
            )
            close_log.offline = True
            changes |= {
                "status": TerminalStatus.CLOSED.value,
                "physical_amount": to_stored(close.physical_amount),
            }
        if not new_logs and close_log is None:
            return OfflineSessionResult(terminal, outcomes, None, None)
        updated = await lifecycle.commit_session(
            actor, terminal.model_copy(), changes, close_log, new_logs, EventType.CLOSE
        )
        return OfflineSessionResult(
            updated, outcomes, close_log, Outcome.ACCEPTED if close_log else None
        )

    async def _resent(
        self,
        terminal: TerminalDocument,
        moves: list[OfflineCashMove],
        close: OfflineClose | None,
        seen: set[str],
    ) -> OfflineSessionResult:
        """The session is closed already: an upload sent again (its answer was lost) repeats
        what was taken; anything new for a closed session is refused."""
        close_log = await self._lifecycle.session_close(terminal)
        offline_close = close_log is not None and close_log.offline is True
        if any(m.offline_id not in seen for m in moves) or (close and not offline_close):
            raise OfflineSessionMismatchError(
                f"Session {terminal.business_date}/{terminal.open_counter} of terminal "
                f"{terminal.terminal_id} is closed"
            )
        return OfflineSessionResult(
            terminal,
            [(m.offline_id, Outcome.DUPLICATE) for m in moves],
            close_log if close else None,
            Outcome.DUPLICATE if close else None,
        )
