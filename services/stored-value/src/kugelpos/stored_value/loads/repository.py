"""Pending loads: unique on (tenant, load id), so a load registered twice (a retried request)
is one; its state moves only by conditional updates (pending -> applied -> reversed)."""

from __future__ import annotations

from typing import Any

from pymongo import ReturnDocument
from pymongo.asynchronous.client_session import AsyncClientSession

from kugelpos.common.clock import utcnow
from kugelpos.common.db.indexes import index
from kugelpos.common.db.repository import Repository

from .documents import LoadDocument, LoadState

_PROJECTION = {"_id": False}


class LoadRepository(Repository[LoadDocument]):
    collection_name = "card_loads"
    document_type = LoadDocument
    indexes = (index("tenant_id", "load_id", unique=True),)

    async def insert(self, load: LoadDocument, *, session: AsyncClientSession) -> None:
        load.created_by = load.created_by or self.actor
        await self.collection.insert_one(load.to_mongo(), session=session)

    async def by_id(
        self, tenant_id: str, load_id: str, *, session: AsyncClientSession | None = None
    ) -> LoadDocument | None:
        return await self.find_one({"tenant_id": tenant_id, "load_id": load_id}, session=session)

    async def move(
        self,
        tenant_id: str,
        load_id: str,
        before: LoadState,
        changes: dict[str, Any],
        *,
        session: AsyncClientSession,
    ) -> LoadDocument | None:
        raw = await self.collection.find_one_and_update(
            {"tenant_id": tenant_id, "load_id": load_id, "state": before.value},
            {"$set": {**changes, "updated_at": utcnow(), "updated_by": self.actor}},
            projection=_PROJECTION,
            return_document=ReturnDocument.AFTER,
            session=session,
        )
        return self._load(raw)
