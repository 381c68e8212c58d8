"""Taking offline sales back.

An upload is read first (duplicates, blocks, numbers used, the terminal's sessions, taxes,
prices: a fixed number of reads per batch, never per sale), then each sale is checked
(`checks`, pure) and recorded on its own, exactly as the cart records any sale
(`TransactionService.record`: tranlog + outbox event in one transaction, receipt rendered),
with its price discrepancies in the same transaction. So a cart killed mid-upload has
recorded some sales whole and the others not at all; the till sends the batch again and the
recorded ones come back `duplicate` (same `source_id`), the rest are recorded.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import structlog
from pydantic import ValidationError
from pymongo.asynchronous.client_session import AsyncClientSession

from kugelpos.common.errors import AlreadyExistsError, AppError
from kugelpos.common.pagination import Page, PageParams

from ..domain.masters import DEFAULT_TAX_MASTER, TaxMaster, tax_master_by_code
from ..errors import OfflineBatchTooLargeError, OfflineSessionsUnavailableError
from ..master_data_client import ItemPrice
from ..transactions import tranlog as build
from ..transactions.repository import TranlogRepository
from . import checks
from .base import OfflineBase, Till, source_id
from .documents import OfflineBlockDocument, OfflineDiscrepancyDocument, OfflineRejectionDocument
from .repository import (
    OfflineBlockRepository,
    OfflineDiscrepancyRepository,
    OfflineRejectionRepository,
)
from .schemas import OfflineSale

log = structlog.get_logger(__name__)

MAX_BATCH = 500
ACCEPTED, DUPLICATE, REJECTED = "accepted", "duplicate", "rejected"


@dataclass(frozen=True, slots=True)
class Outcome:
    offline_id: str | None
    status: str
    transaction_no: int | None = None
    code: str | None = None
    message: str | None = None


class OfflineIntake(OfflineBase):
    def __init__(self, *parts: Any, card_codes: frozenset[str]) -> None:
        super().__init__(*parts)
        # Payment codes that draw on a gift card or store credit: refused offline.
        self._card_codes = card_codes

    # ---- intake --------------------------------------------------------------------------------

    async def intake(self, till: Till, items: list[Any]) -> list[Outcome]:
        if len(items) > MAX_BATCH:
            raise OfflineBatchTooLargeError(
                f"{len(items)} sales in one upload; send at most {MAX_BATCH} at a time"
            )
        await self.ready(till.tenant_id)
        parsed: list[OfflineSale | Outcome] = [self._parse(item) for item in items]
        sales = [s for s in parsed if isinstance(s, OfflineSale)]

        # Reads, a fixed number per batch: the terminal's blocks, what is recorded in the
        # blocks the batch's numbers fall in (one index range each), then, if anything is new,
        # the sessions, prices, taxes, parameters and store name at once.
        blocks = await self._blocks_of(till) if sales else []
        recorded, used_transactions, used_receipts = await self._recorded(till, sales, blocks)
        fresh = [s for s in sales if source_id(till.terminal_id, s.offline_id) not in recorded]
        sessions: dict[tuple[str, int], int] = {}
        prices: dict[str, dict[str, ItemPrice | None]] = {}
        tax_master = tax_master_by_code(DEFAULT_TAX_MASTER)
        parameters: dict[str, str | None] = {}
        store_name: str | None = None
        if fresh:
            sessions, prices, taxes, parameters, store_name = await asyncio.gather(
                self._sessions(till, {s.business_date for s in fresh}),
                self._prices(till, fresh),
                self._masters.taxes(till.tenant_id),
                self.parameters(till),
                self._masters.store_name(till.tenant_id, till.store_code),
            )
            if taxes:
                tax_master = tax_master_by_code(taxes)

        results: list[Outcome] = []
        answered: dict[str, Outcome] = {}
        for entry in parsed:
            if isinstance(entry, Outcome):
                results.append(await self._reject(till, entry, None))
                continue
            sale = entry
            source = source_id(till.terminal_id, sale.offline_id)
            first = answered.get(sale.offline_id)
            if first is not None:  # the same sale twice in one batch: the first answer
                status = DUPLICATE if first.status != REJECTED else REJECTED
                results.append(
                    Outcome(
                        sale.offline_id, status, first.transaction_no, first.code, first.message
                    )
                )
                continue
            if source in recorded:
                outcome = Outcome(sale.offline_id, DUPLICATE, recorded[source])
            else:
                outcome = await self._take(
                    till,
                    sale,
                    blocks,
                    used_transactions,
                    used_receipts,
                    sessions,
                    tax_master,
                    prices.get(sale.generate_date_time, {}),
                    parameters,
                    store_name,
                )
            answered[sale.offline_id] = outcome
            results.append(outcome)
        log.info(
            "offline_batch_taken",
            terminal_id=till.terminal_id,
            sales=len(items),
            accepted=sum(r.status == ACCEPTED for r in results),
            duplicate=sum(r.status == DUPLICATE for r in results),
            rejected=sum(r.status == REJECTED for r in results),
        )
        return results

    @staticmethod
    def _parse(item: Any) -> OfflineSale | Outcome:
        try:
            return OfflineSale.model_validate(item)
        except ValidationError as exc:
            offline_id = item.get("offlineId") if isinstance(item, dict) else None
            problems = "; ".join(
                f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()[:5]
            )
            return Outcome(
                # Kept for the answer and the manager's list; a broken one only in part.
                offline_id[:128] if isinstance(offline_id, str) else None,
                REJECTED,
                None,
                checks.MALFORMED,
                f"malformed sale: {problems}",
            )

    async def _take(
        self,
        till: Till,
        sale: OfflineSale,
        blocks: list[OfflineBlockDocument],
        used_transactions: set[int],
        used_receipts: set[tuple[str, int]],
        sessions: dict[tuple[str, int], int],
        tax_master: Mapping[str, TaxMaster],
        prices: dict[str, ItemPrice | None],
        parameters: dict[str, str | None],
        store_name: str | None,
    ) -> Outcome:
        try:
            checks.check_session(sale, sessions)
            block = checks.block_of(sale, blocks)
            checks.check_unused(sale, block, used_transactions, used_receipts)
            cards = {code for code, p in prices.items() if p is not None and p.is_stored_value}
            checks.check_no_card(sale, self._card_codes, cards)
            tax_codes = {code: p.tax_code for code, p in prices.items() if p is not None}
            cart = checks.check_sale(sale, tax_master, tax_codes)
        except checks.Rejection as why:
            outcome = Outcome(sale.offline_id, REJECTED, sale.transaction_no, why.code, why.message)
            return await self._reject(till, outcome, sale)
        differences = checks.price_differences(
            sale, {code: (p.price if p else None) for code, p in prices.items()}
        )
        business_counter = sessions[(sale.business_date, sale.open_counter)]
        fields = self._fields(till, sale, cart, parameters, store_name, business_counter)
        db = self.db(till.tenant_id)
        actor = f"terminal:{till.terminal_id}"

        async def with_discrepancies(session: AsyncClientSession) -> None:
            await OfflineRejectionRepository(db, actor=actor).resolved(
                till.terminal_id, sale.offline_id, session=session
            )
            repo = OfflineDiscrepancyRepository(db, actor=actor)
            for d in differences:
                await repo.create(
                    OfflineDiscrepancyDocument(
                        **till.key(),
                        terminal_id=till.terminal_id,
                        transaction_no=sale.transaction_no,
                        offline_id=sale.offline_id,
                        line_no=d.line_no,
                        item_code=d.item_code,
                        sold_price=float(d.sold_price),
                        master_price=None if d.master_price is None else float(d.master_price),
                        at=sale.generate_date_time,
                    ),
                    session=session,
                )

        try:
            await self._transactions.record(fields, actor=actor, within=with_discrepancies)
        except AlreadyExistsError:
            # Recorded meanwhile by a concurrent upload of the same sale, or its number was
            # taken by another sale of this terminal: look which.
            found = await TranlogRepository(db).find_one({"source_id": fields["source_id"]})
            if found is not None:
                return Outcome(sale.offline_id, DUPLICATE, found.transaction_no)
            outcome = Outcome(
                sale.offline_id,
                REJECTED,
                sale.transaction_no,
                checks.NUMBER_USED,
                f"transactionNo {sale.transaction_no} is used already",
            )
            return await self._reject(till, outcome, sale)
        used_transactions.add(sale.transaction_no)
        used_receipts.add((block.block_id, sale.receipt_no))
        return Outcome(sale.offline_id, ACCEPTED, sale.transaction_no)

    def _fields(
        self,
        till: Till,
        sale: OfflineSale,
        cart,
        parameters: dict[str, str | None],
        store_name: str | None,
        business_counter: int,
    ) -> dict[str, Any]:
        return {
            **till.key(),
            "store_name": store_name,
            "terminal_id": till.terminal_id,
            "transaction_no": sale.transaction_no,
            "transaction_type": sale.transaction_type,
            "receipt_no": sale.receipt_no,
            "business_date": sale.business_date,
            "open_counter": sale.open_counter,
            "business_counter": business_counter,
            "generate_date_time": sale.generate_date_time,
            "source_id": source_id(till.terminal_id, sale.offline_id),
            "event_id": str(uuid.uuid4()),
            "user": None,
            "sales": build.sales_info(cart, sale.generate_date_time),
            "line_items": [build.line_info(line) for line in cart.line_items],
            "payments": [build.payment_info(p) for p in cart.payments],
            "taxes": [build.tax_info(t) for t in cart.taxes],
            "subtotal_discounts": [build.discount_info(d) for d in cart.subtotal_discounts],
            "origin": None,
            "staff": build.person(cart.staff),
            "additional_info": build.additional_info(parameters),
            "offline": True,
        }

    async def _reject(self, till: Till, outcome: Outcome, sale: OfflineSale | None) -> Outcome:
        """Kept for the manager; never remembered as taken (a corrected resend may pass)."""
        repo = OfflineRejectionRepository(self.db(till.tenant_id), actor=till.terminal_id)
        await repo.record(
            OfflineRejectionDocument(
                **till.key(),
                terminal_id=till.terminal_id,
                offline_id=outcome.offline_id,
                transaction_no=outcome.transaction_no,
                receipt_no=sale.receipt_no if sale else None,
                code=outcome.code or checks.MALFORMED,
                message=outcome.message or "",
                sale=sale.model_dump(mode="json", by_alias=True) if sale else {},
            )
        )
        return outcome

    # ---- the batch's reads ---------------------------------------------------------------------

    async def _blocks_of(self, till: Till) -> list[OfflineBlockDocument]:
        cursor = self.db(till.tenant_id)[OfflineBlockRepository.collection_name].find(
            {"terminal_id": till.terminal_id}, {"_id": False}
        )
        return [OfflineBlockDocument.model_validate(raw) for raw in await cursor.to_list()]

    async def _recorded(
        self, till: Till, sales: list[OfflineSale], blocks: list[OfflineBlockDocument]
    ) -> tuple[dict[str, int], set[int], set[tuple[str, int]]]:
        """What this terminal recorded in the blocks the batch's numbers fall in: the offline
        sales' `source_id` -> transaction number (duplicates), the transaction numbers taken,
        and the (block, receipt number) pairs its offline sales used. One index range read per
        such block (at most 1,000 numbers each), never a long `$in`."""
        tranlogs = self.db(till.tenant_id)[TranlogRepository.collection_name]
        touched = [
            b
            for b in blocks
            if any(b.transaction_no_from <= s.transaction_no <= b.transaction_no_to for s in sales)
        ]
        projection = {
            "_id": False,
            "transaction_no": True,
            "receipt_no": True,
            "source_id": True,
            "offline": True,
        }
        reads = await asyncio.gather(
            *(
                tranlogs.find(
                    {
                        **till.key(),
                        "transaction_no": {
                            "$gte": b.transaction_no_from,
                            "$lte": b.transaction_no_to,
                        },
                    },
                    projection,
                ).to_list()
                for b in touched
            )
        )
        recorded: dict[str, int] = {}
        used_transactions: set[int] = set()
        used_receipts: set[tuple[str, int]] = set()
        for block, rows in zip(touched, reads, strict=True):
            for row in rows:
                number = int(row["transaction_no"])
                used_transactions.add(number)
                if row.get("offline"):
                    recorded[str(row["source_id"])] = number
                    used_receipts.add((block.block_id, int(row["receipt_no"])))
        return recorded, used_transactions, used_receipts

    async def _sessions(self, till: Till, dates: set[str]) -> dict[tuple[str, int], int]:
        """The terminal's sessions of the batch's business dates (-> their business counter):
        ONE call to the terminal service. Unanswered: the batch is refused whole (503),
        nothing written."""
        url = (
            f"{self._settings.base_url_terminal.rstrip('/')}/terminals/{till.terminal_id}/sessions"
        )
        try:
            data = await self._caller.get_data(url, till.tenant_id, {"businessDate": sorted(dates)})
        except AppError as exc:
            raise OfflineSessionsUnavailableError(
                f"the terminal service could not list the sessions: {exc.message}"
            ) from exc
        return {
            (str(s["businessDate"]), int(s["openCounter"])): int(s.get("businessCounter") or 0)
            for s in data or []
            if isinstance(s, dict) and s.get("businessDate") and s.get("openCounter") is not None
        }

    async def _prices(
        self, till: Till, sales: list[OfflineSale]
    ) -> dict[str, dict[str, ItemPrice | None]]:
        """Master prices in force at each sale's time (its time -> item code -> price), read
        for the whole batch at once."""
        lookups = {
            (line.item_code, sale.generate_date_time) for sale in sales for line in sale.line_items
        }
        found = await self._masters.prices_at(till.tenant_id, till.store_code, lookups)
        by_time: dict[str, dict[str, ItemPrice | None]] = {}
        for (code, at), price in found.items():
            by_time.setdefault(at, {})[code] = price
        return by_time

    # ---- the manager's lists -------------------------------------------------------------------

    async def rejections(self, till: Till, params: PageParams) -> Page[OfflineRejectionDocument]:
        await self.ready(till.tenant_id)
        return await OfflineRejectionRepository(self.db(till.tenant_id)).list(till.key(), params)

    async def discrepancies(
        self, till: Till, params: PageParams
    ) -> Page[OfflineDiscrepancyDocument]:
        await self.ready(till.tenant_id)
        return await OfflineDiscrepancyRepository(self.db(till.tenant_id)).list(till.key(), params)
