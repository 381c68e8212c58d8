"""Persistence of journal entries and the indexes every journal query relies on.

Every query the API makes starts with the tenant and the path store and is served by one of
these (MongoDB uses an index whose leading fields match the equality filters):
- search by terminals (and the default sort terminal_no, business_date, receipt_no): `_RECEIPTS`;
- search without terminals, by business date: `_BY_DATE`; by generate time: `_BY_TIME`;
- search by transaction types: `_BY_TYPE`;
- a receipt for reprint (terminal + receipt number, optionally the date): `_RECEIPT_NO`;
- the natural key (idempotent writes): the unique index.
Keywords are a regular expression on `journal_text` and cannot use an index of their own; they
only ever narrow a query already bounded by tenant and store (usually also dates).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from pymongo import ASCENDING, DESCENDING
from pymongo.asynchronous.client_session import AsyncClientSession

from kugelpos.common.db.indexes import index
from kugelpos.common.db.repository import Filter, Repository
from kugelpos.common.pagination import SortSpec

from .documents import JournalDocument

_STORE = ("tenant_id", "store_code")
_PROJECTION = {"_id": False}


class JournalRepository(Repository[JournalDocument]):
    collection_name = "journal"
    document_type = JournalDocument
    indexes = (
        # §2.1, as v1 creates them.
        index(*_STORE, "terminal_no", "transaction_type", "generate_date_time", unique=True),
        index(*_STORE, "terminal_no", "transaction_type"),
        index(*_STORE, "terminal_no", "business_date", "receipt_no"),
        # Beyond v1: the searches without terminals, and the receipt lookup.
        index(*_STORE, "business_date", "receipt_no"),
        index(*_STORE, "generate_date_time"),
        index(*_STORE, "transaction_type", "business_date"),
        index(*_STORE, "terminal_no", "receipt_no", "-generate_date_time"),
    )
    default_sort = (("terminal_no", ASCENDING), ("business_date", ASCENDING))

    async def by_natural_key(
        self, entry: JournalDocument, *, session: AsyncClientSession | None = None
    ) -> JournalDocument | None:
        return await self.find_one(entry.natural_key(), session=session)

    async def latest(self, filter_: Filter) -> JournalDocument | None:
        """The most recent entry matching (a reprint wants the last one printed)."""
        cursor = (
            self.collection.find(filter_, _PROJECTION)
            .sort([("generate_date_time", DESCENDING), ("_id", DESCENDING)])
            .limit(1)
        )
        for raw in await cursor.to_list():
            return self._load(raw)
        return None

    async def stream(
        self, filter_: Filter, sort: SortSpec, *, batch_size: int
    ) -> AsyncIterator[dict[str, Any]]:
        """Every matching entry as stored, in `sort` order, fetched `batch_size` at a time."""
        order = [(f, ASCENDING if d > 0 else DESCENDING) for f, d in sort]
        order.append(("_id", ASCENDING))
        cursor = self.collection.find(filter_, _PROJECTION, batch_size=batch_size).sort(order)
        async for raw in cursor:
            yield raw
