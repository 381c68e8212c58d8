"""Receiving: a delivery's lines, their history rows (`receipt`), the items' moving-average
costs and the receipt itself in one transaction. The receipt is written last under its unique
(tenant, store, reference) index: a reference already received aborts everything (409), and
of two concurrent deliveries of one reference the second conflicts, retries, then finds it."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from decimal import Decimal

from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from kugelpos.common.clock import to_millis, utcnow
from kugelpos.common.db.mongo import Mongo
from kugelpos.common.pagination import Page, PageParams

from ..costs import to_cost_units
from ..errors import ReceiptAlreadyReceivedError, ReceiptNotFoundError
from ..items import ItemMaster
from ..stocks.documents import StockDocument, UpdateType
from ..stocks.service import StockChange, apply_changes
from .documents import ReceiptDocument, ReceiptLineDocument
from .repository import ReceiptRepository


@dataclass(frozen=True, slots=True)
class ReceiptLine:
    item_code: str
    quantity: Decimal
    unit_cost: Decimal


@dataclass(frozen=True, slots=True)
class Received:
    receipt: ReceiptDocument
    rows: list[StockDocument]  # each item's row as the receipt left it


class ReceiptService:
    def __init__(
        self,
        mongo: Mongo,
        ensure_tenant: Callable[[str], Awaitable[AsyncDatabase]],
        items: ItemMaster,
    ) -> None:
        self._mongo = mongo
        self._items = items
        # The tenant's indexes, the unique reference among them, once per process (a tenant
        # set up before receipts existed gets them on its first receipt).
        self._ensure_tenant = ensure_tenant

    async def receive(
        self,
        tenant_id: str,
        store_code: str,
        *,
        supplier: str,
        reference: str,
        lines: list[ReceiptLine],
        operator_id: str | None,
        actor: str | None,
    ) -> Received:
        await self._items.require(tenant_id, (line.item_code for line in lines))
        db = await self._ensure_tenant(tenant_id)
        receipt_id = uuid.uuid4().hex
        changes = [
            StockChange(
                store_code=store_code,
                item_code=line.item_code,
                quantity_change=line.quantity,
                update_type=UpdateType.RECEIPT,
                reference_id=reference,
                operator_id=operator_id,
                note=supplier,
                unit_cost_units=to_cost_units(line.unit_cost),
            )
            for line in lines
        ]

        async def work(session: AsyncClientSession) -> Received:
            applied = await apply_changes(db, tenant_id, changes, session=session, actor=actor)
            receipt = ReceiptDocument(
                tenant_id=tenant_id,
                store_code=store_code,
                receipt_id=receipt_id,
                supplier=supplier,
                reference=reference,
                operator_id=operator_id,
                received_at=to_millis(utcnow()),
                lines=[
                    ReceiptLineDocument(
                        item_code=a.history.item_code,
                        quantity_units=a.history.change_units,
                        unit_cost_units=a.history.unit_cost_units or 0,
                        before_units=a.history.before_units,
                        after_units=a.history.after_units,
                        average_cost_units=a.history.average_cost_units or 0,
                    )
                    for a in applied
                ],
                shard_key=tenant_id,
            )
            await ReceiptRepository(db, actor=actor).insert(receipt, session=session)
            rows = {a.row.item_code: a.row for a in applied}
            return Received(receipt, list(rows.values()))

        try:
            return await self._mongo.in_transaction(work)
        except DuplicateKeyError as exc:
            # Stock rows never raise it (a lost upsert race is a write conflict): the
            # reference is taken.
            raise ReceiptAlreadyReceivedError(
                f"Receipt {reference} was already received at store {store_code}"
            ) from exc

    async def get(self, tenant_id: str, store_code: str, receipt_id: str) -> ReceiptDocument:
        found = await ReceiptRepository(self._mongo.tenant_db(tenant_id)).by_id(
            tenant_id, store_code, receipt_id
        )
        if found is None:
            raise ReceiptNotFoundError(f"Receipt {receipt_id} not found in store {store_code}")
        return found

    async def list(
        self, tenant_id: str, store_code: str, params: PageParams
    ) -> Page[ReceiptDocument]:
        return await ReceiptRepository(self._mongo.tenant_db(tenant_id)).page(
            tenant_id, store_code, params
        )
