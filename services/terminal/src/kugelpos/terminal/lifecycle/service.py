"""Lifecycle rules: staff sign-in/out, open, close, cash in/out.

Each open, close and cash movement writes its log and the matching outbox event in one MongoDB
transaction, together with a conditional update of the terminal (so concurrent operations on
one terminal conflict instead of both succeeding). The relay publishes after commit.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import structlog
from pymongo.asynchronous.client_session import AsyncClientSession

from kugelpos.common.auth.principal import Principal
from kugelpos.common.auth.tokens import TokenCodec
from kugelpos.common.clients.http import HttpClientHelper
from kugelpos.common.clock import app_now, business_date
from kugelpos.common.db.mongo import Mongo
from kugelpos.common.errors import AppError, ConflictError
from kugelpos.common.events.outbox import Outbox
from kugelpos.common.throttle import AttemptLimiter

from ..config import TOPIC_CASHLOG, TOPIC_OPENCLOSELOG, TerminalSettings
from ..errors import (
    AlreadySignedInError,
    InvalidCashAmountError,
    InvalidStaffCredentialsError,
    NotSignedInError,
    TerminalAlreadyClosedError,
    TerminalAlreadyOpenedError,
    TerminalStatusError,
)
from ..money import ZERO, to_stored
from ..tenants.service import TenantService
from ..terminals.documents import StaffInfo, TerminalDocument, TerminalStatus
from ..terminals.repository import TerminalRepository
from ..terminals.service import TerminalService
from . import receipts
from .documents import CashKind, CashLogDocument, EventType, OpenCloseLogDocument
from .repository import CashLogRepository, OpenCloseLogRepository
from .staff import StaffDirectory

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class CartFigures:
    """What the cart recorded for a session (all None when the cart does not answer)."""

    transaction_count: int | None = None
    last_transaction_no: int | None = None
    cash_sales_amount: Decimal | None = None


@dataclass(frozen=True, slots=True)
class SessionResult:
    terminal: TerminalDocument
    log: OpenCloseLogDocument


class LifecycleService:
    def __init__(
        self,
        *,
        mongo: Mongo,
        terminals: TerminalService,
        tenants: TenantService,
        staff: StaffDirectory,
        limiter: AttemptLimiter,
        outbox: Outbox,
        http: HttpClientHelper,
        codec: TokenCodec,
        settings: TerminalSettings,
    ) -> None:
        self._mongo = mongo
        self._terminals = terminals
        self._tenants = tenants
        self._staff = staff
        self._limiter = limiter
        self._outbox = outbox
        self._http = http
        self._codec = codec
        self._settings = settings

    # ---- helpers -----------------------------------------------------------------------------

    def _repos(
        self, tenant_id: str, actor: str | None
    ) -> tuple[TerminalRepository, CashLogRepository, OpenCloseLogRepository]:
        db = self._mongo.tenant_db(tenant_id)
        return (
            TerminalRepository(db, actor=actor),
            CashLogRepository(db, actor=actor),
            OpenCloseLogRepository(db, actor=actor),
        )

    def _now(self) -> str:
        return app_now(self._settings.timezone).isoformat()

    async def terminal(self, terminal_id: str) -> TerminalDocument:
        return await self._terminals.get(terminal_id)

    async def store_name(self, terminal: TerminalDocument) -> str:
        tenant = await self._tenants.get(terminal.tenant_id)
        store = tenant.store(terminal.store_code)
        return store.store_name if store else terminal.store_code

    def _base_log(self, terminal: TerminalDocument, store_name: str, moment: str) -> dict[str, Any]:
        return {
            "event_id": str(uuid.uuid4()),
            "tenant_id": terminal.tenant_id,
            "store_code": terminal.store_code,
            "store_name": store_name,
            "terminal_no": terminal.terminal_no,
            "terminal_id": terminal.terminal_id,
            "staff_id": terminal.staff.staff_id if terminal.staff else None,
            "staff_name": terminal.staff.staff_name if terminal.staff else None,
            "business_date": terminal.business_date or "",
            "open_counter": terminal.open_counter,
            "business_counter": terminal.business_counter,
            "generate_date_time": moment,
        }

    async def _add_event(
        self,
        session: AsyncClientSession,
        topic: str,
        entry: CashLogDocument | OpenCloseLogDocument,
        event_type: EventType,
        actor: str | None,
    ) -> None:
        await self._outbox.add(
            session,
            topic=topic,
            payload=entry.event(event_type),
            tenant_id=entry.tenant_id,
            event_id=entry.event_id,
            keys=entry.event_keys(),
            actor=actor,
        )

    # ---- staff -------------------------------------------------------------------------------

    async def sign_in(
        self, actor: Principal, terminal_id: str, staff_id: str, pin: str | None
    ) -> TerminalDocument:
        terminal = await self._terminals.get(terminal_id)
        if terminal.staff is not None:
            raise AlreadySignedInError(
                f"Staff {terminal.staff.staff_id} is already signed in; sign out first"
            )
        tenant_id = terminal.tenant_id
        await self._limiter.check(tenant_id, staff_id)
        staff = await self._staff.get(tenant_id, staff_id)
        if staff.has_pin:
            if not pin:
                raise InvalidStaffCredentialsError("A PIN is required for this staff member")
            if not await self._staff.verify_pin(tenant_id, staff_id, pin):
                await self._limiter.record_failure(tenant_id, staff_id)
                raise InvalidStaffCredentialsError("Invalid staff PIN")
            await self._limiter.reset(tenant_id, staff_id)
        info = StaffInfo(staff_id=staff.staff_id, staff_name=staff.name)
        terminals, _, _ = self._repos(tenant_id, actor.username)
        updated = await terminals.update(
            {"terminal_id": terminal_id, "staff": None}, {"staff": info.model_dump()}
        )
        if updated is None:
            raise AlreadySignedInError("A staff member signed in concurrently")
        self._terminals.changed(terminal_id, "signed_in")
        return updated

    async def sign_out(self, actor: Principal, terminal_id: str) -> TerminalDocument:
        terminal = await self._terminals.get(terminal_id)
        if terminal.staff is None:
            return terminal  # idempotent
        terminals, _, _ = self._repos(terminal.tenant_id, actor.username)
        updated = await terminals.update({"terminal_id": terminal_id}, {"staff": None})
        self._terminals.changed(terminal_id, "signed_out")
        return updated or terminal

    # ---- open / close ------------------------------------------------------------------------

    async def open(
        self, actor: Principal, terminal_id: str, initial_amount: Decimal | None
    ) -> SessionResult:
        terminal = await self._terminals.get(terminal_id)
        if terminal.status is TerminalStatus.OPENED:
            raise TerminalAlreadyOpenedError(f"Terminal {terminal_id} is already open")
        store_name = await self.store_name(terminal)
        today = business_date(self._settings.timezone)
        before = terminal.model_copy()
        if terminal.business_date == today:
            terminal.open_counter += 1
        else:
            terminal.business_date = today
            terminal.open_counter = 1
        terminal.business_counter += 1
        terminal.status = TerminalStatus.OPENED
        terminal.initial_amount = initial_amount
        terminal.session_cash_count = 0
        moment = self._now()

        cash_log = None
        if initial_amount is not None:
            lines = [
                *receipts.header(
                    store_name=store_name,
                    terminal_no=terminal.terminal_no,
                    staff_id=terminal.staff.staff_id if terminal.staff else None,
                    moment=moment,
                    report=receipts.OPENING_FLOAT,
                ),
                receipts.pair("amount", receipts.amount(initial_amount)),
                *receipts.footer(),
            ]
            cash_log = CashLogDocument(
                **self._base_log(terminal, store_name, moment),
                kind=CashKind.FLOAT,
                amount=initial_amount,
                description="Initial amount",
                receipt_text=receipts.render_receipt(lines),
                journal_text=receipts.render_journal(lines),
            )
            terminal.session_cash_count = 1
        lines = [
            *self._session_lines(receipts.OPEN, terminal, store_name, moment, initial_amount),
            *receipts.footer(),
        ]
        open_log = OpenCloseLogDocument(
            **self._base_log(terminal, store_name, moment),
            operation=EventType.OPEN.value,
            terminal_info=terminal.public(),
            initial_amount=initial_amount,
            receipt_text=receipts.render_receipt(lines),
            journal_text=receipts.render_journal(lines),
        )
        changes = {
            "status": terminal.status.value,
            "business_date": terminal.business_date,
            "open_counter": terminal.open_counter,
            "business_counter": terminal.business_counter,
            "initial_amount": to_stored(initial_amount),
            "session_cash_count": terminal.session_cash_count,
        }
        updated = await self.commit_session(
            actor, before, changes, open_log, [cash_log] if cash_log else [], EventType.OPEN
        )
        return SessionResult(updated, open_log)

    async def close(
        self, actor: Principal, terminal_id: str, physical_amount: Decimal | None
    ) -> SessionResult:
        terminal = await self._terminals.get(terminal_id)
        if terminal.status is TerminalStatus.CLOSED:
            raise TerminalAlreadyClosedError(f"Terminal {terminal_id} is already closed")
        if terminal.status is not TerminalStatus.OPENED:
            raise TerminalStatusError(f"Terminal {terminal_id} has never been opened")
        store_name = await self.store_name(terminal)
        before = terminal.model_copy()
        entries = await self.session_cash(terminal)
        figures = await self.cart_summary(terminal)
        close_log = self.close_log(
            terminal, store_name, entries, physical_amount, figures, self._now()
        )
        changes = {
            "status": TerminalStatus.CLOSED.value,
            "physical_amount": to_stored(physical_amount),
        }
        updated = await self.commit_session(actor, before, changes, close_log, [], EventType.CLOSE)
        return SessionResult(updated, close_log)

    async def session_cash(self, terminal: TerminalDocument) -> list[CashLogDocument]:
        """The cash logs (float, in, out) of the terminal's current session."""
        _, cash_logs, _ = self._repos(terminal.tenant_id, None)
        session_filter = {
            "tenant_id": terminal.tenant_id,
            "store_code": terminal.store_code,
            "terminal_no": terminal.terminal_no,
            "business_date": terminal.business_date,
            "open_counter": terminal.open_counter,
        }
        raw_logs = await cash_logs.collection.find(session_filter, {"_id": False}).to_list()
        return [CashLogDocument.model_validate(r) for r in raw_logs]

    async def session_close(self, terminal: TerminalDocument) -> OpenCloseLogDocument | None:
        """The close log of the terminal's current session, if it was closed."""
        _, _, session_logs = self._repos(terminal.tenant_id, None)
        raw = await session_logs.collection.find_one(
            {
                "tenant_id": terminal.tenant_id,
                "store_code": terminal.store_code,
                "terminal_no": terminal.terminal_no,
                "business_date": terminal.business_date,
                "open_counter": terminal.open_counter,
                "operation": EventType.CLOSE.value,
            },
            {"_id": False},
            sort=[("generate_date_time", -1)],
        )
        return None if raw is None else OpenCloseLogDocument.model_validate(raw)

    def close_log(
        self,
        terminal: TerminalDocument,
        store_name: str,
        entries: list[CashLogDocument],
        physical_amount: Decimal | None,
        figures: CartFigures,
        moment: str,
    ) -> OpenCloseLogDocument:
        """The close of the terminal's session: the drawer expected from its cash logs and the
        cart's figures, against what was counted."""
        float_amount = sum((e.amount for e in entries if e.kind is CashKind.FLOAT), ZERO)
        cash_in = sum((e.amount for e in entries if e.kind is CashKind.IN), ZERO)
        cash_out = -sum((e.amount for e in entries if e.kind is CashKind.OUT), ZERO)
        cash_sales = figures.cash_sales_amount
        expected = float_amount + cash_in - cash_out + (cash_sales or ZERO)
        difference = None if physical_amount is None else physical_amount - expected
        closed = terminal.model_copy(
            update={"status": TerminalStatus.CLOSED, "physical_amount": physical_amount}
        )
        lines = self._session_lines(
            receipts.CLOSE, closed, store_name, moment, terminal.initial_amount
        )
        lines += [
            receipts.pair("cash_in", receipts.amount(cash_in)),
            receipts.pair("cash_out", receipts.amount(cash_out)),
            receipts.pair("cash_sales", receipts.amount(cash_sales)),
            receipts.pair("expected", receipts.amount(expected)),
            receipts.pair("counted", receipts.amount(physical_amount)),
            receipts.pair("difference", receipts.amount(difference)),
            *receipts.footer(),
        ]
        return OpenCloseLogDocument(
            **self._base_log(closed, store_name, moment),
            operation=EventType.CLOSE.value,
            terminal_info=closed.public(),
            initial_amount=terminal.initial_amount,
            physical_amount=physical_amount,
            cash_in_out_count=len(entries),
            cash_in_out_last_datetime=max((e.generate_date_time for e in entries), default=None),
            cash_in_amount=cash_in,
            cash_out_amount=cash_out,
            cart_transaction_count=figures.transaction_count,
            cart_transaction_last_no=figures.last_transaction_no,
            cash_sales_amount=cash_sales,
            expected_amount=expected,
            difference_amount=difference,
            receipt_text=receipts.render_receipt(lines),
            journal_text=receipts.render_journal(lines),
        )

    async def commit_session(
        self,
        actor: Principal,
        before: TerminalDocument,
        changes: dict[str, Any],
        session_log: OpenCloseLogDocument | None,
        cash_logs: list[CashLogDocument],
        event_type: EventType,
    ) -> TerminalDocument:
        """The terminal's change, its cash logs and its open/close log with their events, in one
        transaction, if the terminal is still as it was read."""
        terminals, cash_repo, session_logs = self._repos(before.tenant_id, actor.username)
        # The state read above must still hold when we write: otherwise someone else won.
        expected_state = {
            "terminal_id": before.terminal_id,
            "status": before.status.value,
            "business_counter": before.business_counter,
            "session_cash_count": before.session_cash_count,
        }

        async def work(session: AsyncClientSession) -> TerminalDocument:
            updated = await terminals.update(expected_state, changes, session=session)
            if updated is None:
                raise ConflictError("The terminal changed concurrently; retry")
            for cash_log in cash_logs:
                await cash_repo.create(cash_log, session=session)
                await self._add_event(
                    session, TOPIC_CASHLOG, cash_log, EventType.CASH_IN_OUT, actor.username
                )
            if session_log is not None:
                await session_logs.create(session_log, session=session)
                await self._add_event(
                    session, TOPIC_OPENCLOSELOG, session_log, event_type, actor.username
                )
            return updated

        updated = await self._outbox.transaction(self._mongo, work)
        if session_log is not None:
            self._terminals.changed(before.terminal_id, event_type.value)
        return updated

    def _session_lines(
        self,
        report: str,
        terminal: TerminalDocument,
        store_name: str,
        moment: str,
        initial_amount: Decimal | None,
    ) -> list[receipts.Line]:
        return [
            *receipts.header(
                store_name=store_name,
                terminal_no=terminal.terminal_no,
                staff_id=terminal.staff.staff_id if terminal.staff else None,
                moment=moment,
                report=report,
            ),
            receipts.pair("business_date", terminal.business_date or ""),
            receipts.pair("open_counter", str(terminal.open_counter)),
            receipts.pair("business_counter", str(terminal.business_counter)),
            receipts.pair("initial_amount", receipts.amount(initial_amount)),
        ]

    async def cart_summary(self, terminal: TerminalDocument) -> CartFigures:
        """(transaction count, last transaction no, net cash sales) of the session, from the
        cart service when it is deployed and answers; (None, None, None) otherwise, so a close
        never waits on cart (the drawer then expects float + cash in - cash out)."""
        base = self._settings.configured_base_url("cart")
        if not self._settings.close_query_cart or base is None:
            return CartFigures()
        token = self._codec.issue_service_token(service="terminal", tenant_id=terminal.tenant_id)
        url = (
            f"{base}/tenants/{terminal.tenant_id}/stores/{terminal.store_code}"
            f"/terminals/{terminal.terminal_no}/transactions/session-summary"
        )
        try:
            response = await self._http.get(
                url,
                params={
                    "terminal_id": terminal.terminal_id,
                    "business_date": terminal.business_date,
                    "open_counter": terminal.open_counter,
                },
                headers={"Authorization": f"Bearer {token}"},
                retry=False,
            )
            if not response.is_success:
                log.info("cart_summary_unavailable", status=response.status_code)
                return CartFigures()
            data = response.json()["data"]
            last_no = data.get("lastTransactionNo")
            return CartFigures(
                int(data["transactionCount"]),
                int(last_no) if isinstance(last_no, int) else None,
                Decimal(str(data["cashSalesAmount"])),
            )
        except (AppError, ValueError, KeyError, TypeError, AttributeError) as exc:
            log.info("cart_summary_unavailable", error=type(exc).__name__)
            return CartFigures()

    def cash_log(
        self,
        terminal: TerminalDocument,
        store_name: str,
        amount: Decimal,
        description: str | None,
        moment: str,
        *,
        offline_id: str | None = None,
    ) -> CashLogDocument:
        """A cash in (positive) or out (negative) of the terminal's current session."""
        kind = CashKind.IN if amount > ZERO else CashKind.OUT
        text = description or ("Cash In (Default)" if kind is CashKind.IN else "Cash Out (Default)")
        lines = [
            *receipts.header(
                store_name=store_name,
                terminal_no=terminal.terminal_no,
                staff_id=terminal.staff.staff_id if terminal.staff else None,
                moment=moment,
                report=receipts.CASH_IN if kind is CashKind.IN else receipts.CASH_OUT,
            ),
            receipts.pair("amount", receipts.amount(amount)),
            receipts.text(text),
            *receipts.footer(),
        ]
        return CashLogDocument(
            **self._base_log(terminal, store_name, moment),
            kind=kind,
            amount=amount,
            description=text,
            offline_id=offline_id,
            receipt_text=receipts.render_receipt(lines),
            journal_text=receipts.render_journal(lines),
        )

    # ---- cash --------------------------------------------------------------------------------

    async def cash(
        self, actor: Principal, terminal_id: str, amount: Decimal, description: str | None
    ) -> CashLogDocument:
        """`amount` is signed: positive cash in, negative cash out."""
        if amount == ZERO:
            raise InvalidCashAmountError("The amount must not be zero")
        terminal = await self._terminals.get(terminal_id)
        if terminal.staff is None:
            raise NotSignedInError("A staff member must sign in before cash in/out")
        if terminal.status is not TerminalStatus.OPENED:
            raise TerminalStatusError("Cash in/out needs an open terminal")
        store_name = await self.store_name(terminal)
        entry = self.cash_log(terminal, store_name, amount, description, self._now())
        terminals, cash_logs, _ = self._repos(terminal.tenant_id, actor.username)
        same_session = {
            "terminal_id": terminal_id,
            "status": TerminalStatus.OPENED.value,
            "business_date": terminal.business_date,
            "open_counter": terminal.open_counter,
        }

        async def work(session: AsyncClientSession) -> None:
            touched = await terminals.update(
                same_session, {}, session=session, extra={"$inc": {"session_cash_count": 1}}
            )
            if touched is None:
                raise ConflictError("The terminal changed concurrently; retry")
            await cash_logs.create(entry, session=session)
            await self._add_event(
                session, TOPIC_CASHLOG, entry, EventType.CASH_IN_OUT, actor.username
            )

        await self._outbox.transaction(self._mongo, work)
        return entry
