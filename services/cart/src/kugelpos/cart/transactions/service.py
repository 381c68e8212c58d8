"""Transaction rules: completing a cart (numbers, tranlog, outbox event), queries, and
delivery acknowledgements.

Completion (spec §10, with the §18 fixes):
- one tranlog per cart whatever the retries: its `source_id` is `cart:<cart id>` (unique), and a
  bill that finds one already recorded reuses it instead of numbering the sale again;
- numbers come from one atomic `$inc` on the terminal's counter document (never handed out
  twice; a failed bill leaves a gap, as v1);
- the tranlog and its `tranlog_report` outbox event are written in ONE MongoDB transaction;
  the relay publishes after commit (and again while consumers have not acknowledged).

Void and return live in `refunds.py` and record through `record()` here.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import structlog
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.errors import PyMongoError

from kugelpos.common.clock import app_now
from kugelpos.common.db.mongo import Mongo, commit_unknown
from kugelpos.common.db.tenants import ensure_collections
from kugelpos.common.errors import AlreadyExistsError, NotFoundError
from kugelpos.common.events.outbox import Outbox, OutboxRecord, OutboxRepository
from kugelpos.common.observability.metrics import Metrics, transaction_kind
from kugelpos.common.pagination import Page, PageParams
from kugelpos.common.transactions import TillSession, TransactionType

from ..cache.terminals import TerminalInfo
from ..carts.documents import CartDocument
from ..config import TOPIC_TRANLOG, CartSettings
from ..errors import (
    CartInternalError,
)
from ..master_data_client import MasterDataClient
from ..plugins.registry import Plugins
from . import tranlog as build
from .documents import TranlogDocument, TransactionStatusDocument
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


SORTABLE = frozenset(
    {"transaction_no", "receipt_no", "generate_date_time", "business_date", "transaction_type"}
)


@dataclass(frozen=True, slots=True)
class RefundRequest:
    payment_code: str
    amount: int
    detail: str | None = None
    # A refund onto a card (store credit): an existing card's whole number; a refund by the
    # card's payment code without one issues a new credit card.
    card_no: str | None = None


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
        *,
        metrics: Metrics | None = None,
    ) -> None:
        self._metrics = metrics
        self._mongo = mongo
        self._outbox = outbox
        self._plugins = plugins
        self._masters = masters
        self._settings = settings
        self._ensured = ensured

    # ---- plumbing ------------------------------------------------------------------------------

    def db(self, tenant_id: str):
        return self._mongo.tenant_db(tenant_id)

    async def setup_tenant(self, tenant_id: str) -> None:
        """Collections and indexes (idempotent); also run lazily before a tenant's first write."""
        await ensure_collections(self.db(tenant_id), TENANT_REPOSITORIES)
        await ensure_collections(self._mongo.commons_db(), (OutboxRepository,))
        self._ensured.add(tenant_id)

    async def ready(self, tenant_id: str) -> None:
        if tenant_id not in self._ensured:
            await self.setup_tenant(tenant_id)

    def now(self) -> str:
        return app_now(self._settings.timezone).isoformat()

    async def numbers(self, tenant_id: str, terminal_id: str, start: int, end: int):
        tno, seq = await CounterRepository(self.db(tenant_id)).next_numbers(terminal_id)
        return tno, build.receipt_number(seq, start, end)

    async def record(
        self,
        fields: dict[str, Any],
        actor: str,
        *,
        within: Callable[[AsyncClientSession], Awaitable[None]] | None = None,
    ) -> TranlogDocument:
        """Render the receipt, then write the tranlog and its event in one transaction.

        `within`: writes that must commit with the tranlog or not at all (a void's or a
        return's claim on the sale it reverses); it runs first and may raise to abort."""
        tran = TranlogDocument.model_validate(fields)
        try:
            receipt_text, journal_text = self._plugins.receipt().render(tran.payload())
        except Exception as exc:
            log.error("receipt_render_failed", error=type(exc).__name__, exc_info=exc)
            raise CartInternalError("Receipt could not be rendered") from exc
        tran.receipt_text, tran.journal_text = receipt_text, journal_text
        repo = TranlogRepository(self.db(tran.tenant_id), actor=actor)

        async def work(session: AsyncClientSession) -> None:
            if within is not None:
                await within(session)
            await repo.create(tran, session=session)
            await self._add_event(tran, session=session, actor=actor)

        try:
            await self._outbox.transaction(self._mongo, work)
        except PyMongoError as exc:
            # The driver sent the commit again while its outcome was unknown (a connection
            # lost at commit, a primary stepping down) and still could not learn it: the sale
            # may be recorded. Look before failing the till.
            if not (commit_unknown(exc) and await self._applied(repo, tran)):
                raise
        log.info(
            "tranlog_recorded",
            tenant_id=tran.tenant_id,
            terminal_id=tran.terminal_id,
            transaction_no=tran.transaction_no,
            transaction_type=tran.transaction_type,
            event_id=tran.event_id,
        )
        if self._metrics is not None:
            # Here and only here: every sale, cancel, return and void is recorded by this
            # method once; a retried bill finds its tranlog in `complete_cart` and never
            # reaches it, and a tranlog another request recorded first raised above.
            self._metrics.transaction(
                transaction_kind(
                    tran.transaction_type, cancelled=bool(tran.sales.get("is_cancelled"))
                ),
                float(tran.sales.get("total_amount_with_tax") or 0),
            )
        return tran

    # ---- bill / cancel -------------------------------------------------------------------------

    async def _add_event(
        self, tran: TranlogDocument, *, session: AsyncClientSession | None, actor: str | None
    ) -> None:
        """The tranlog's outbox event, written in the tranlog's transaction, with the keys its
        delivery status is looked up by."""
        await self._outbox.add(
            session,
            topic=TOPIC_TRANLOG,
            payload=tran.payload(),
            tenant_id=tran.tenant_id,
            event_id=tran.event_id,
            keys={
                "tenant_id": tran.tenant_id,
                "store_code": tran.store_code,
                "terminal_no": tran.terminal_no,
                "terminal_id": tran.terminal_id,
                "transaction_no": tran.transaction_no,
                "transaction_type": tran.transaction_type,
                "business_date": tran.business_date,
                "open_counter": tran.open_counter,
            },
            actor=actor,
        )

    async def _applied(self, repo: TranlogRepository, tran: TranlogDocument) -> bool:
        """Did the transaction whose commit outcome stayed unknown record this tranlog (its
        event id)? Its event committed with it: the relay is told to look."""
        found = await repo.find_one({"source_id": tran.source_id})
        if found is None or found.event_id != tran.event_id:
            return False
        self._outbox.notify_added()
        return True

    async def complete_cart(self, doc: CartDocument, terminal: TerminalInfo) -> TranlogDocument:
        """The tranlog of a billed or cancelled cart: recorded once, found again on retries."""
        cart = doc.cart
        await self.ready(cart.tenant_id)
        repo = TranlogRepository(self.db(cart.tenant_id))
        source = {"source_id": f"cart:{cart.cart_id}"}
        existing = await repo.find_one(source)
        if existing is not None:
            return existing
        start, end = build.receipt_range(
            doc.masters.parameters,
            self._settings.receipt_no_start_value,
            self._settings.receipt_no_end_value,
        )
        transaction_no, receipt_no = await self.numbers(cart.tenant_id, doc.terminal_id, start, end)
        zone = ZoneInfo(self._settings.timezone)
        fields = build.from_cart(
            doc,
            terminal,
            transaction_no=transaction_no,
            receipt_no=receipt_no,
            generate_date_time=self.now(),
            reference_date_time=doc.created_at.astimezone(zone).isoformat(),
            event_id=str(uuid.uuid4()),
        )
        try:
            return await self.record(fields, actor=f"terminal:{doc.terminal_id}")
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
        tran = await TranlogRepository(self.db(tenant_id)).find_one(key)
        if tran is None:
            raise NotFoundError(
                f"Transaction {transaction_no} of terminal {store_code}-{terminal_no} not found"
            )
        status = await TransactionStatusRepository(self.db(tenant_id)).find_one(key)
        return tran, status

    async def session_summary(self, session: TillSession) -> SessionSummary:
        """Count, last number and net cash of one session (served by the session index)."""
        cursor = self.db(session.tenant_id)[TranlogRepository.collection_name].find(
            session.query(),
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
        page = await TranlogRepository(self.db(tenant_id)).list(filter_, params)
        numbers = [t.transaction_no for t in page.items]
        statuses: dict[int, TransactionStatusDocument] = {}
        if numbers:
            repo = TransactionStatusRepository(self.db(tenant_id))
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
