"""Cards: unique per (tenant, number). Every change to a balance is a conditional
`find_one_and_update` inside the transaction that writes its ledger entry, so a condition
(`balance >= amount`, `status: active`) is checked on the row the transaction writes."""

from __future__ import annotations

from typing import Any

from pymongo import ReturnDocument
from pymongo.asynchronous.client_session import AsyncClientSession

from kugelpos.common.clock import utcnow
from kugelpos.common.db.indexes import index
from kugelpos.common.db.repository import Repository

from .documents import CardDocument

_PROJECTION = {"_id": False}


class CardRepository(Repository[CardDocument]):
    collection_name = "cards"
    document_type = CardDocument
    indexes = (
        index("tenant_id", "card_no", unique=True),
        index("tenant_id", "kind", "status"),
    )

    async def by_no(
        self, tenant_id: str, card_no: str, *, session: AsyncClientSession | None = None
    ) -> CardDocument | None:
        return await self.find_one({"tenant_id": tenant_id, "card_no": card_no}, session=session)

    async def insert_many(self, docs: list[CardDocument]) -> None:
        now = utcnow()
        for doc in docs:
            doc.created_at, doc.created_by = now, self.actor
        await self.collection.insert_many([d.to_mongo() for d in docs], ordered=True)

    async def change(
        self,
        tenant_id: str,
        card_no: str,
        *,
        condition: dict[str, Any],
        inc: dict[str, int] | None = None,
        set_: dict[str, Any] | None = None,
        session: AsyncClientSession,
    ) -> CardDocument | None:
        """The card after the change, or None when it is not there or `condition` fails."""
        update: dict[str, Any] = {
            "$set": {**(set_ or {}), "updated_at": utcnow(), "updated_by": self.actor}
        }
        if inc:
            update["$inc"] = inc
        raw = await self.collection.find_one_and_update(
            {"tenant_id": tenant_id, "card_no": card_no, **condition},
            update,
            projection=_PROJECTION,
            return_document=ReturnDocument.AFTER,
            session=session,
        )
        return self._load(raw)
