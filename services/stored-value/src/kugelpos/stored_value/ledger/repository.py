"""The ledger: unique on (tenant, entry key), the second line of defence (after the inbox and
the hold's state) against a movement applied twice."""

from __future__ import annotations

from pymongo import ASCENDING
from pymongo.asynchronous.client_session import AsyncClientSession

from kugelpos.common.db.indexes import index
from kugelpos.common.db.repository import Repository
from kugelpos.common.pagination import Page, PageParams

from .documents import LedgerEntry


class LedgerRepository(Repository[LedgerEntry]):
    collection_name = "card_ledger"
    document_type = LedgerEntry
    indexes = (
        index("tenant_id", "entry_key", unique=True),
        index("tenant_id", "card_no", "at"),
    )
    default_sort = (("at", ASCENDING),)

    async def insert(self, entry: LedgerEntry, *, session: AsyncClientSession) -> None:
        entry.created_by = entry.created_by or self.actor
        await self.collection.insert_one(entry.to_mongo(), session=session)

    async def of_card(self, tenant_id: str, card_no: str, params: PageParams) -> Page[LedgerEntry]:
        ordered = PageParams(limit=params.limit, page=params.page, sort=[("at", 1)])
        return await self.list({"tenant_id": tenant_id, "card_no": card_no}, ordered)

    async def has(
        self, tenant_id: str, entry_key: str, *, session: AsyncClientSession | None = None
    ) -> bool:
        found = await self.collection.find_one(
            {"tenant_id": tenant_id, "entry_key": entry_key}, {"_id": 1}, session=session
        )
        return found is not None
