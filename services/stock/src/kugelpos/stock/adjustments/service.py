"""Batch adjustments: every line, and its history row, in one transaction or none.

The lines go through the same `apply_changes` as a manual update and a sale (one bulk upsert
of the rows, one insert of the history rows), typed `adjustment`, the line's reason as the
history note and the batch's id as its reference."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal

from pymongo.asynchronous.client_session import AsyncClientSession

from kugelpos.common.db.mongo import Mongo

from ..items import ItemMaster
from ..stocks.documents import UpdateType
from ..stocks.service import Applied, StockChange, apply_changes


@dataclass(frozen=True, slots=True)
class AdjustmentLine:
    item_code: str
    quantity_change: Decimal
    reason: str


@dataclass(frozen=True, slots=True)
class Adjustment:
    adjustment_id: str
    applied: list[Applied]


class AdjustmentService:
    def __init__(self, mongo: Mongo, items: ItemMaster) -> None:
        self._mongo = mongo
        self._items = items

    async def apply(
        self,
        tenant_id: str,
        store_code: str,
        lines: list[AdjustmentLine],
        *,
        operator_id: str | None,
        actor: str | None,
    ) -> Adjustment:
        await self._items.require(tenant_id, (line.item_code for line in lines))
        adjustment_id = uuid.uuid4().hex
        changes = [
            StockChange(
                store_code=store_code,
                item_code=line.item_code,
                quantity_change=line.quantity_change,
                update_type=UpdateType.ADJUSTMENT,
                reference_id=adjustment_id,
                operator_id=operator_id,
                note=line.reason,
            )
            for line in lines
        ]
        db = self._mongo.tenant_db(tenant_id)

        async def work(session: AsyncClientSession) -> list[Applied]:
            return await apply_changes(db, tenant_id, changes, session=session, actor=actor)

        return Adjustment(adjustment_id, await self._mongo.in_transaction(work))
