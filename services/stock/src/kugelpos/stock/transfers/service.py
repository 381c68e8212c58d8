"""Transfers between stores of a tenant.

Ship: the sending store's rows go down (`transfer_out`, at their average cost) and the
transfer is stored, in one transaction; the goods are then in transit. Receive: the received
units go up at the receiving store (`transfer_in`, taken in at the sending store's average
cost at shipment, so its moving average moves as by a receipt), partly or fully; closing a
transfer as received records what never arrived as its discrepancy. Cancel, before any
receipt: the goods go back to the sending store (`transfer_in` there). Each receipt and the
cancel write the transfer only over the revision they read, in the transaction of their
stock changes, so two of them never both apply."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase

from kugelpos.common.clock import utcnow
from kugelpos.common.db.mongo import Mongo
from kugelpos.common.errors import ConflictError
from kugelpos.common.pagination import Page, PageParams

from ..errors import (
    TransferBadReceiptError,
    TransferClosedError,
    TransferNotFoundError,
    TransferSameStoreError,
)
from ..items import ItemMaster
from ..quantities import from_units, to_units
from ..stocks.documents import StockDocument, UpdateType
from ..stocks.service import StockChange, apply_changes
from .documents import (
    OPEN_STATUSES,
    ReceivedUnitsDocument,
    TransferDocument,
    TransferLineDocument,
    TransferReceiptDocument,
    TransferStatus,
)
from .repository import TransferRepository


@dataclass(frozen=True, slots=True)
class TransferLine:
    item_code: str
    quantity: Decimal


@dataclass(frozen=True, slots=True)
class Moved:
    transfer: TransferDocument
    rows: list[StockDocument]  # each item's row as the move left it


class TransferService:
    def __init__(
        self,
        mongo: Mongo,
        ensure_tenant: Callable[[str], Awaitable[AsyncDatabase]],
        items: ItemMaster,
    ) -> None:
        self._mongo = mongo
        self._items = items
        self._ensure_tenant = ensure_tenant

    async def ship(
        self,
        tenant_id: str,
        from_store: str,
        to_store: str,
        lines: list[TransferLine],
        *,
        operator_id: str | None,
        actor: str | None,
    ) -> Moved:
        if from_store == to_store:
            raise TransferSameStoreError(f"A transfer from {from_store} to itself")
        await self._items.require(tenant_id, (line.item_code for line in lines))
        db = await self._ensure_tenant(tenant_id)
        transfer_id = uuid.uuid4().hex
        changes = [
            StockChange(
                store_code=from_store,
                item_code=line.item_code,
                quantity_change=-line.quantity,
                update_type=UpdateType.TRANSFER_OUT,
                reference_id=transfer_id,
                operator_id=operator_id,
                note=f"to {to_store}",
            )
            for line in lines
        ]

        async def work(session: AsyncClientSession) -> Moved:
            applied = await apply_changes(db, tenant_id, changes, session=session, actor=actor)
            transfer = TransferDocument(
                tenant_id=tenant_id,
                transfer_id=transfer_id,
                from_store=from_store,
                to_store=to_store,
                lines=[
                    TransferLineDocument(
                        item_code=a.history.item_code,
                        shipped_units=-a.history.change_units,
                        unit_cost_units=a.row.average_cost_units,
                    )
                    for a in applied
                ],
                operator_id=operator_id,
                shipped_at=_ms(utcnow()),
                shard_key=tenant_id,
            )
            await TransferRepository(db, actor=actor).insert(transfer, session=session)
            return Moved(transfer, list({a.row.item_code: a.row for a in applied}.values()))

        return await self._mongo.in_transaction(work)

    async def receive(
        self,
        tenant_id: str,
        transfer_id: str,
        lines: list[TransferLine],
        *,
        complete: bool,
        operator_id: str | None,
        actor: str | None,
    ) -> Moved:
        db = self._mongo.tenant_db(tenant_id)
        received = {line.item_code: to_units(line.quantity) for line in lines}

        async def work(session: AsyncClientSession) -> Moved:
            transfers = TransferRepository(db, actor=actor)
            transfer = await self._transfer(transfers, tenant_id, transfer_id, session)
            if transfer.status not in OPEN_STATUSES:
                raise TransferClosedError(f"Transfer {transfer_id} is {transfer.status.value}")
            by_item = {line.item_code: line for line in transfer.lines}
            unknown = sorted(set(received) - set(by_item))
            if unknown:
                raise TransferBadReceiptError(
                    f"Items not shipped by transfer {transfer_id}: {', '.join(unknown[:10])}"
                )
            for item, units in received.items():
                line = by_item[item]
                if units > line.in_transit_units:
                    raise TransferBadReceiptError(
                        f"{from_units(units)} of {item} received, "
                        f"{from_units(line.in_transit_units)} in transit"
                    )
            changes = [
                StockChange(
                    store_code=transfer.to_store,
                    item_code=item,
                    quantity_change=from_units(units),
                    update_type=UpdateType.TRANSFER_IN,
                    reference_id=transfer_id,
                    operator_id=operator_id,
                    note=f"from {transfer.from_store}",
                    unit_cost_units=by_item[item].unit_cost_units,
                )
                for item, units in received.items()
                if units > 0
            ]
            applied = await apply_changes(db, tenant_id, changes, session=session, actor=actor)
            now = _ms(utcnow())
            for item, units in received.items():
                by_item[item].received_units += units
            if complete:
                for line in transfer.lines:
                    line.discrepancy_units = line.shipped_units - line.received_units
            done = all(line.in_transit_units == 0 for line in transfer.lines)
            transfer.status = TransferStatus.RECEIVED if done else TransferStatus.PARTLY_RECEIVED
            transfer.closed_at = now if done else None
            transfer.receipts.append(
                TransferReceiptDocument(
                    received_at=now,
                    lines=[
                        ReceivedUnitsDocument(item_code=item, units=units)
                        for item, units in received.items()
                    ],
                    operator_id=operator_id,
                )
            )
            await self._save(transfers, transfer, session)
            return Moved(transfer, list({a.row.item_code: a.row for a in applied}.values()))

        return await self._mongo.in_transaction(work)

    async def cancel(
        self, tenant_id: str, transfer_id: str, *, operator_id: str | None, actor: str | None
    ) -> Moved:
        db = self._mongo.tenant_db(tenant_id)

        async def work(session: AsyncClientSession) -> Moved:
            transfers = TransferRepository(db, actor=actor)
            transfer = await self._transfer(transfers, tenant_id, transfer_id, session)
            if transfer.status is not TransferStatus.SHIPPED:
                raise TransferClosedError(
                    f"Transfer {transfer_id} is {transfer.status.value}: only a transfer "
                    "nothing of which was received can be cancelled"
                )
            changes = [
                StockChange(
                    store_code=transfer.from_store,
                    item_code=line.item_code,
                    quantity_change=from_units(line.shipped_units),
                    update_type=UpdateType.TRANSFER_IN,
                    reference_id=transfer_id,
                    operator_id=operator_id,
                    note="transfer cancelled",
                    unit_cost_units=line.unit_cost_units,
                )
                for line in transfer.lines
            ]
            applied = await apply_changes(db, tenant_id, changes, session=session, actor=actor)
            transfer.status = TransferStatus.CANCELLED
            transfer.closed_at = _ms(utcnow())
            await self._save(transfers, transfer, session)
            return Moved(transfer, list({a.row.item_code: a.row for a in applied}.values()))

        return await self._mongo.in_transaction(work)

    async def _transfer(
        self,
        transfers: TransferRepository,
        tenant_id: str,
        transfer_id: str,
        session: AsyncClientSession | None = None,
    ) -> TransferDocument:
        found = await transfers.by_id(tenant_id, transfer_id, session=session)
        if found is None:
            raise TransferNotFoundError(f"Transfer {transfer_id} not found")
        return found

    async def _save(
        self, transfers: TransferRepository, transfer: TransferDocument, session: AsyncClientSession
    ) -> None:
        if not await transfers.save(transfer, session=session):
            # Another receipt or the cancel committed since this transaction read it (inside
            # a transaction MongoDB reports that as a write conflict first; this is the guard).
            raise ConflictError(f"Transfer {transfer.transfer_id} changed meanwhile: retry")
        transfer.revision += 1

    async def get(self, tenant_id: str, transfer_id: str) -> TransferDocument:
        db = self._mongo.tenant_db(tenant_id)
        return await self._transfer(TransferRepository(db), tenant_id, transfer_id)

    async def list(
        self,
        tenant_id: str,
        store_code: str | None,
        status: TransferStatus | None,
        params: PageParams,
    ) -> Page[TransferDocument]:
        return await TransferRepository(self._mongo.tenant_db(tenant_id)).page(
            tenant_id, store_code, status, params
        )


def _ms(moment: datetime) -> datetime:
    """MongoDB keeps milliseconds: the answer to a write is what a GET reads back."""
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)
