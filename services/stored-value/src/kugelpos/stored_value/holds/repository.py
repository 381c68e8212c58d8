"""Holds: unique on (tenant, hold id), so a hold asked for twice (a retried payment) is placed
once; open holds are found by their expiry for the release loop."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pymongo import ReturnDocument
from pymongo.asynchronous.client_session import AsyncClientSession

from kugelpos.common.clock import utcnow
from kugelpos.common.db.indexes import index
from kugelpos.common.db.repository import Repository

from .documents import HoldDocument, HoldState

_PROJECTION = {"_id": False}


class HoldRepository(Repository[HoldDocument]):
    collection_name = "card_holds"
    document_type = HoldDocument
    indexes = (
        index("tenant_id", "hold_id", unique=True),
        index("state", "expires_at"),
    )

    async def insert(self, hold: HoldDocument, *, session: AsyncClientSession) -> None:
        hold.created_by = hold.created_by or self.actor
        await self.collection.insert_one(hold.to_mongo(), session=session)

    async def by_id(
        self, tenant_id: str, hold_id: str, *, session: AsyncClientSession | None = None
    ) -> HoldDocument | None:
        return await self.find_one({"tenant_id": tenant_id, "hold_id": hold_id}, session=session)

    async def close(
        self,
        tenant_id: str,
        hold_id: str,
        changes: dict[str, Any],
        *,
        session: AsyncClientSession,
    ) -> HoldDocument | None:
        """Open -> captured/released: the hold after the change, or None if it was not open
        (two closers race: one wins, the other finds it closed)."""
        raw = await self.collection.find_one_and_update(
            {"tenant_id": tenant_id, "hold_id": hold_id, "state": HoldState.OPEN.value},
            {"$set": {**changes, "updated_at": utcnow(), "updated_by": self.actor}},
            projection=_PROJECTION,
            return_document=ReturnDocument.AFTER,
            session=session,
        )
        return self._load(raw)

    async def due(self, now: datetime, limit: int) -> list[HoldDocument]:
        cursor = self.collection.find(
            {"state": HoldState.OPEN.value, "expires_at": {"$lte": now}}, _PROJECTION
        ).limit(limit)
        return [h for raw in await cursor.to_list() if (h := self._load(raw))]
