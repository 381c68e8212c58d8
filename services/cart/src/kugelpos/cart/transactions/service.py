"""Transaction rules: completing a cart (numbers, tranlog, outbox event), void and return,
queries, and delivery acknowledgements.

Completion (spec §10, with the §18 fixes):
- one tranlog per cart whatever the retries: its `source_id` is `cart:<cart id>` (unique), and a
  bill that finds one already recorded reuses it instead of numbering the sale again;
- numbers come from one atomic `$inc` on the terminal's counter document (never handed out
  twice; a failed bill leaves a gap, as v1);
- the tranlog and its `tranlog_report` outbox event are written in ONE MongoDB transaction;
  the relay publishes after commit (and again while consumers have not acknowledged).

Void and return (spec §13): a conditional upsert on `status_tran` claims the original before
anything is written, so of two concurrent voids exactly one wins; if writing the new tranlog
then fails, the claim is released. Refund tenders follow the payment master (`can_refund`).
The new transaction is stamped with the acting terminal (§18.5) and its current staff (§18.6).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import structlog
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.errors import OperationFailure

from kugelpos.common.clock import app_now
from kugelpos.common.db.mongo import Mongo
from kugelpos.common.db.tenants import ensure_collections
from kugelpos.common.errors import AlreadyExistsError, NotFoundError, PermissionDeniedError
from kugelpos.common.events.outbox import Outbox, OutboxRecord, OutboxRepository
from kugelpos.common.pagination import Page, PageParams
from kugelpos.common.transactions import TransactionType

from ..cache.masters import MasterDataClient, resolve_setting
from ..cache.terminals import TerminalInfo
from ..carts.documents import CartDocument
from ..config import TOPIC_TRANLOG, CartSettings
from ..domain.models import Payment
from ..errors import (
    AlreadyRefundedError,
    AlreadyVoidedError,
    CartInternalError,
    CartValidationError,
)
from ..payments.rules import refund
from ..plugins.registry import Plugins
from ..pricing.money import ZERO, to_decimal
from . import tranlog as build
from .documents import PRIVATE_FIELDS, TranlogDocument, TransactionStatusDocument
from .repository import (
    TENANT_REPOSITORIES,
    CounterRepository,
    TranlogRepository,
    TransactionStatusRepository,
    status_key,
)
from .session import SessionSummary, summarize

log = structlog.get_logger(__name__)

SALE = TransactionType.NORMAL_SALES
RETURN = TransactionType.RETURN_SALES
VOID_SALE = TransactionType.VOID_SALES
VOID_RETURN = TransactionType.VOID_RETURN
COMMIT_TRIES = 5
COMMIT_BACKOFF_SECONDS = 0.02
WRITE_CONFLICT = 112


def _is_write_conflict(exc: OperationFailure) -> bool:
    return exc.code == WRITE_CONFLICT or "write conflict" in str(exc).lower()


SORTABLE = frozenset(
    {"transaction_no", "receipt_no", "generate_date_time", "business_date", "transaction_type"}
)


@dataclass(frozen=True, slots=True)
class RefundRequest:
    payment_code: str
    amount: int
    detail: str | None = None


@dataclass(frozen=True, slots=True)
class TransactionQuery:
    business_date: str | None = None
    open_counter: int | None = None
    transaction_types: Sequence[int] = ()
    receipt_no: int | None = None
    include_cancelled: bool = False


class TransactionService:
    def __init__(
        self,
        mongo: Mongo,
        outbox: Outbox,
        plugins: Plugins,
        masters: MasterDataClient,
        settings: CartSettings,
        ensured: set[str],
    ) -> None:
        self._mongo = mongo
        self._outbox = outbox
        self._plugins = plugins
        self._masters = masters
        self._settings = settings
        self._ensured = ensured

    # ---- plumbing ------------------------------------------------------------------------------

    def _db(self, tenant_id: str):
        return self._mongo.tenant_db(tenant_id)

    async def setup_tenant(self, tenant_id: str) -> None:
        """Collections and indexes (idempotent); also run lazily before a tenant's first write."""
        async with self._outbox.write_lock:
            await ensure_collections(self._db(tenant_id), TENANT_REPOSITORIES)
            await ensure_collections(self._mongo.commons_db(), (OutboxRepository,))
        self._ensured.add(tenant_id)

    async def _ready(self, tenant_id: str) -> None:
        if tenant_id not in self._ensured:
            await self.setup_tenant(tenant_id)

    def _now(self) -> str:
        return app_now(self._settings.timezone).isoformat()

    async def _numbers(self, tenant_id: str, terminal_id: str, start: int, end: int):
        # Under the outbox's write lock: the local mongoeco server fails a transaction when
        # any other write lands meanwhile (MongoDB does not need this).
        async with self._outbox.write_lock:
            tno, seq = await CounterRepository(self._db(tenant_id)).next_numbers(terminal_id)
        return tno, build.receipt_number(seq, start, end)

    async def _record(self, fields: dict[str, Any], actor: str) -> TranlogDocument:
        """Render the receipt, then write the tranlog and its event in one transaction."""
        tran = TranlogDocument.model_validate(fields)
        try:
            receipt_text, journal_text = self._plugins.receipt().render(tran.payload())
        except Exception as exc:
            log.error("receipt_render_failed", error=type(exc).__name__, exc_info=exc)
            raise CartInternalError("Receipt could not be rendered") from exc
        tran.receipt_text, tran.journal_text = receipt_text, journal_text
        repo = TranlogRepository(self._db(tran.tenant_id), actor=actor)
        keys = {
            "tenant_id": tran.tenant_id,
            "store_code": tran.store_code,
            "terminal_no": tran.terminal_no,
            "terminal_id": tran.terminal_id,
            "transaction_no": tran.transaction_no,
            "transaction_type": tran.transaction_type,
            "business_date": tran.business_date,
            "open_counter": tran.open_counter,
        }

        async def work(session: AsyncClientSession) -> None:
            await repo.create(tran, session=session)
            await self._outbox.add(
                session,
                topic=TOPIC_TRANLOG,
                payload=tran.payload(),
                tenant_id=tran.tenant_id,
                event_id=tran.event_id,
                keys=keys,
                actor=actor,
            )

        for attempt in range(1, COMMIT_TRIES + 1):
            try:
                await self._outbox.transaction(self._mongo, work)
                break
            except OperationFailure as exc:
                if not _is_write_conflict(exc):
                    raise
                # Ambiguous on the local mongoeco server (a conflict reported at commit,
                # sometimes after the writes were applied): look, then retry or accept.
                if await self._applied(repo, tran):
                    break
                if attempt == COMMIT_TRIES:
                    raise
                await asyncio.sleep(COMMIT_BACKOFF_SECONDS * attempt)
        log.info(
            "tranlog_recorded",
            tenant_id=tran.tenant_id,
            terminal_id=tran.terminal_id,
            transaction_no=tran.transaction_no,
            transaction_type=tran.transaction_type,
            event_id=tran.event_id,
        )
        return tran

    # ---- bill / cancel -------------------------------------------------------------------------

    async def _applied(self, repo: TranlogRepository, tran: TranlogDocument) -> bool:
        """Did a transaction whose commit reported a conflict write the tranlog anyway? Its
        event is then made sure of too (written without the transaction if missing)."""
        if await repo.find_one({"source_id": tran.source_id}) is None:
            return False
        if await self._outbox.get(tran.event_id) is None:
            async with self._outbox.write_lock:
                await self._outbox.add(
                    None,
                    topic=TOPIC_TRANLOG,
                    payload=tran.payload(),
                    tenant_id=tran.tenant_id,
                    event_id=tran.event_id,
                )
        self._outbox.notify_added()
        return True

    async def complete_cart(self, doc: CartDocument, terminal: TerminalInfo) -> TranlogDocument:
        """The tranlog of a billed or cancelled cart: recorded once, found again on retries."""
        cart = doc.cart
        await self._ready(cart.tenant_id)
        repo = TranlogRepository(self._db(cart.tenant_id))
        source = {"source_id": f"cart:{cart.cart_id}"}
        existing = await repo.find_one(source)
        if existing is not None:
            return existing
        start, end = build.receipt_range(
            doc.masters.settings,
            self._settings.receipt_no_start_value,
            self._settings.receipt_no_end_value,
        )
        transaction_no, receipt_no = await self._numbers(
            cart.tenant_id, doc.terminal_id, start, end
        )
        zone = ZoneInfo(self._settings.timezone)
        fields = build.from_cart(
            doc,
            terminal,
            transaction_no=transaction_no,
            receipt_no=receipt_no,
            generate_date_time=self._now(),
            reference_date_time=doc.created_at.astimezone(zone).isoformat(),
            event_id=str(uuid.uuid4()),
        )
        try:
            return await self._record(fields, actor=f"terminal:{doc.terminal_id}")
        except AlreadyExistsError:
            # A concurrent bill of the same cart recorded it first: that one stands.
            existing = await repo.find_one(source)
            if existing is None:
                raise
            return existing

    # ---- queries -------------------------------------------------------------------------------

    async def get(
        self, tenant_id: str, store_code: str, terminal_no: int, transaction_no: int
    ) -> tuple[TranlogDocument, TransactionStatusDocument | None]:
        key = status_key(tenant_id, store_code, terminal_no, transaction_no)
        tran = await TranlogRepository(self._db(tenant_id)).find_one(key)
        if tran is None:
            raise NotFoundError(
                f"Transaction {transaction_no} of terminal {store_code}-{terminal_no} not found"
            )
        status = await TransactionStatusRepository(self._db(tenant_id)).find_one(key)
        return tran, status

    async def session_summary(
        self,
        tenant_id: str,
        store_code: str,
        terminal_no: int,
        business_date: str,
        open_counter: int,
    ) -> SessionSummary:
        """Count, last number and net cash of one session (served by the session index)."""
        cursor = self._db(tenant_id)[TranlogRepository.collection_name].find(
            {
                "tenant_id": tenant_id,
                "store_code": store_code,
                "terminal_no": terminal_no,
                "business_date": business_date,
                "open_counter": open_counter,
            },
            {
                "_id": False,
                "transaction_no": True,
                "transaction_type": True,
                "payments": True,
                "sales": True,
            },
        )
        return summarize(await cursor.to_list())

    async def list(
        self,
        tenant_id: str,
        store_code: str,
        terminal_no: int,
        query: TransactionQuery,
        params: PageParams,
    ) -> tuple[Page[TranlogDocument], dict[int, TransactionStatusDocument], dict[str, Any]]:
        filter_: dict[str, Any] = {
            "tenant_id": tenant_id,
            "store_code": store_code,
            "terminal_no": terminal_no,
        }
        if query.business_date:
            filter_["business_date"] = query.business_date
        if query.open_counter:
            filter_["open_counter"] = query.open_counter
        if query.transaction_types:
            filter_["transaction_type"] = {"$in": list(query.transaction_types)}
        if query.receipt_no:
            filter_["receipt_no"] = query.receipt_no
        if not query.include_cancelled:
            filter_["sales.is_cancelled"] = False
        page = await TranlogRepository(self._db(tenant_id)).list(filter_, params)
        numbers = [t.transaction_no for t in page.items]
        statuses: dict[int, TransactionStatusDocument] = {}
        if numbers:
            repo = TransactionStatusRepository(self._db(tenant_id))
            cursor = repo.collection.find(
                {
                    "tenant_id": tenant_id,
                    "store_code": store_code,
                    "terminal_no": terminal_no,
                    "transaction_no": {"$in": numbers},
                },
                {"_id": False},
            )
            for raw in await cursor.to_list():
                doc = TransactionStatusDocument.model_validate(raw)
                statuses[doc.transaction_no] = doc
        return page, statuses, filter_

    # ---- void and return -----------------------------------------------------------------------

    async def void(
        self,
        terminal: TerminalInfo,
        store_code: str,
        terminal_no: int,
        transaction_no: int,
        requests: Sequence[RefundRequest],
    ) -> TranlogDocument:
        if (store_code, terminal_no) != (terminal.store_code, terminal.terminal_no):
            raise PermissionDeniedError(
                "A transaction can be voided only by the terminal that recorded it"
            )
        original, status = await self.get(
            terminal.tenant_id, store_code, terminal_no, transaction_no
        )
        self._check_not_cancelled(original)
        if status and status.is_voided:
            raise AlreadyVoidedError("This transaction has already been voided")
        if original.transaction_type == SALE:
            if status and status.is_refunded:
                raise AlreadyRefundedError("This transaction has already been refunded")
            new_type = VOID_SALE
        elif original.transaction_type == RETURN:
            new_type = VOID_RETURN
        else:
            raise CartValidationError(
                f"A transaction of type {original.transaction_type} cannot be voided"
            )
        payments = await self._refunds(terminal.tenant_id, original, requests, exact=True)
        tran = await self._reverse(
            terminal,
            original,
            payments,
            new_type,
            flag="is_voided",
            also_not="is_refunded" if original.transaction_type == SALE else None,
        )
        if new_type == VOID_RETURN and original.origin:
            # The sale the voided return refunded can be returned again.
            o = original.origin
            repo = TransactionStatusRepository(self._db(terminal.tenant_id))
            async with self._outbox.write_lock:
                await repo.unset(
                    status_key(
                        o["tenant_id"], o["store_code"], o["terminal_no"], o["transaction_no"]
                    ),
                    {
                        "is_refunded": False,
                        "return_transaction_no": None,
                        "return_date_time": None,
                        "return_staff_id": None,
                    },
                )
        return tran

    async def return_(
        self,
        terminal: TerminalInfo,
        store_code: str,
        terminal_no: int,
        transaction_no: int,
        requests: Sequence[RefundRequest],
    ) -> TranlogDocument:
        if store_code != terminal.store_code:
            raise PermissionDeniedError("A transaction can be returned only in its own store")
        original, status = await self.get(
            terminal.tenant_id, store_code, terminal_no, transaction_no
        )
        self._check_not_cancelled(original)
        if status and status.is_voided:
            raise AlreadyVoidedError("This transaction has already been voided")
        if status and status.is_refunded:
            raise AlreadyRefundedError("This transaction has already been refunded")
        if original.transaction_type != SALE:
            raise CartValidationError(
                f"A transaction of type {original.transaction_type} cannot be returned"
            )
        payments = await self._refunds(terminal.tenant_id, original, requests, exact=False)
        return await self._reverse(
            terminal, original, payments, RETURN, flag="is_refunded", also_not="is_voided"
        )

    @staticmethod
    def _check_not_cancelled(original: TranlogDocument) -> None:
        if original.sales.get("is_cancelled"):
            raise CartValidationError("A cancelled transaction cannot be voided or returned")

    async def _refunds(
        self,
        tenant_id: str,
        original: TranlogDocument,
        requests: Sequence[RefundRequest],
        *,
        exact: bool,
    ) -> list[Payment]:
        """Refund tenders (spec §13.3): each must be refundable per its payment master; for a
        void each code must be one the original was paid with, for the same amount; in all
        cases they must add up to the original's total with tax."""
        if not requests:
            raise CartValidationError("At least one refund payment is required")
        paid: dict[str, Any] = {}
        for p in original.payments:
            code = p.get("payment_code")
            paid[code] = paid.get(code, ZERO) + to_decimal(p.get("amount") or 0)
        payments: list[Payment] = []
        for no, request in enumerate(requests, start=1):
            master = await self._masters.payment(tenant_id, request.payment_code)
            payment = refund(
                master=master, amount=request.amount, payment_no=no, detail=request.detail
            )
            if exact and paid.get(request.payment_code) != payment.payment_amount:
                raise CartValidationError(
                    f"Refund by {request.payment_code} must be {paid.get(request.payment_code)}, "
                    "the amount the transaction was paid with it"
                )
            payments.append(payment)
        total = to_decimal(original.sales.get("total_amount_with_tax") or 0)
        refunded = sum((p.payment_amount for p in payments), ZERO)
        if refunded != total:
            raise CartValidationError(
                f"Refund payments add up to {refunded}, the transaction total is {total}"
            )
        return payments

    async def _reverse(
        self,
        terminal: TerminalInfo,
        original: TranlogDocument,
        payments: list[Payment],
        new_type: int,
        *,
        flag: str,
        also_not: str | None,
    ) -> TranlogDocument:
        tenant_id = terminal.tenant_id
        await self._ready(tenant_id)
        settings = await self._masters.settings(tenant_id)
        values = {
            name: resolve_setting(settings, name, terminal.store_code, terminal.terminal_no)
            for name in build.SETTING_NAMES
        }
        start, end = build.receipt_range(
            values, self._settings.receipt_no_start_value, self._settings.receipt_no_end_value
        )
        transaction_no, receipt_no = await self._numbers(
            tenant_id, terminal.terminal_id, start, end
        )
        now = self._now()
        staff = build.person(terminal.staff) or original.staff
        prefix = "void" if flag == "is_voided" else "return"
        key = status_key(
            tenant_id, original.store_code, original.terminal_no, original.transaction_no
        )
        statuses = TransactionStatusRepository(self._db(tenant_id), actor=terminal.terminal_id)
        claim = {
            f"{prefix}_transaction_no": transaction_no,
            f"{prefix}_date_time": now,
            f"{prefix}_staff_id": (staff or {}).get("id"),
        }
        async with self._outbox.write_lock:
            claimed = await statuses.claim(key, flag, claim, also_not=also_not)
        if not claimed:
            latest = await statuses.find_one(key)
            if latest is not None and latest.is_voided:
                raise AlreadyVoidedError("This transaction has already been voided")
            raise AlreadyRefundedError("This transaction has already been refunded")
        event_id = str(uuid.uuid4())
        fields = original.model_dump(
            mode="json",
            exclude=set(PRIVATE_FIELDS) | {"event_id", "receipt_text", "journal_text"},
        )
        fields.update(
            store_code=terminal.store_code,
            terminal_no=terminal.terminal_no,
            terminal_id=terminal.terminal_id,
            transaction_no=transaction_no,
            transaction_type=new_type,
            receipt_no=receipt_no,
            business_date=terminal.business_date,
            open_counter=terminal.open_counter,
            business_counter=terminal.business_counter,
            generate_date_time=now,
            source_id=f"{new_type}:{event_id}",
            event_id=event_id,
            origin=build.origin_of(original.model_dump(mode="json")),
            payments=[build.payment_info(p) for p in payments],
            staff=staff,
            sales={**original.sales, "reference_date_time": now, "change_amount": 0.0},
            is_voided=False,
            is_refunded=False,
        )
        try:
            return await self._record(fields, actor=f"terminal:{terminal.terminal_id}")
        except BaseException:
            async with self._outbox.write_lock:
                await statuses.unset(
                    key,
                    {flag: False, **dict.fromkeys(claim)},
                    only_if={f"{prefix}_transaction_no": transaction_no},
                )
            raise

    # ---- delivery status -----------------------------------------------------------------------

    async def acknowledge(
        self,
        tenant_id: str,
        store_code: str,
        terminal_no: int,
        event_id: str,
        service: str,
        status: str,
        message: str | None,
    ) -> OutboxRecord:
        record = await self._outbox.get(event_id)
        keys = record.keys if record is not None else {}
        if record is None or (
            keys.get("tenant_id"),
            keys.get("store_code"),
            keys.get("terminal_no"),
        ) != (tenant_id, store_code, terminal_no):
            raise NotFoundError(f"Event {event_id} not found for this terminal")
        updated = await self._outbox.acknowledge(event_id, service, status, message)
        return updated or record
