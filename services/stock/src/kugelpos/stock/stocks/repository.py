"""Stock rows and history: the atomic upsert of §B3 and the indexes behind every query."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from pymongo import ASCENDING, DESCENDING, ReturnDocument, UpdateOne
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.errors import BulkWriteError, DuplicateKeyError, OperationFailure

from kugelpos.common.clock import utcnow
from kugelpos.common.db.indexes import index
from kugelpos.common.db.mongo import TRANSIENT_TRANSACTION_ERROR, WRITE_CONFLICT_CODE
from kugelpos.common.db.repository import Repository
from kugelpos.common.pagination import Page, PageParams

from .documents import StockDocument, StockUpdateDocument

_PROJECTION = {"_id": False}


def lost_insert_race(exc: DuplicateKeyError) -> OperationFailure:
    """Two first updates of one item raced on the unique index: the loser is a write conflict,
    labelled as MongoDB labels one, so the driver runs the whole transaction again (now as an
    update; MongoDB does not retry an upsert's duplicate key inside a transaction). Never a
    DuplicateKeyError, which the event consumer reads as "event already applied"."""
    failure = OperationFailure(
        "Write conflict: concurrent first update of one stock row",
        code=WRITE_CONFLICT_CODE,
        details={"errorLabels": [TRANSIENT_TRANSACTION_ERROR]},
    )
    failure.__cause__ = exc
    return failure


class StockRepository(Repository[StockDocument]):
    collection_name = "stocks"
    document_type = StockDocument
    indexes = (
        index("tenant_id", "store_code", "item_code", unique=True),
        index("item_code"),
    )

    @staticmethod
    def key(tenant_id: str, store_code: str, item_code: str) -> dict[str, str]:
        return {"tenant_id": tenant_id, "store_code": store_code, "item_code": item_code}

    def _new_row(self, tenant_id: str, store_code: str, item_code: str, now: Any) -> dict[str, Any]:
        return {
            **self.key(tenant_id, store_code, item_code),
            "minimum_units": 0,
            "reorder_point_units": 0,
            "reorder_quantity_units": 0,
            "created_at": now,
            "created_by": self.actor,
            "shard_key": tenant_id,
            "etag": None,
        }

    def _increment(self, units: int, last_transaction_id: str | None, now: Any) -> dict:
        return {
            "$inc": {"current_units": units},
            "$set": {
                "last_transaction_id": last_transaction_id,
                "updated_at": now,
                "updated_by": self.actor,
            },
        }

    async def increment(
        self,
        tenant_id: str,
        store_code: str,
        item_code: str,
        change_units: int,
        last_transaction_id: str | None,
        *,
        session: AsyncClientSession,
    ) -> tuple[StockDocument, bool]:
        """The atomic upsert; returns the row after the change and whether it was created."""
        now = utcnow()
        new_row = self._new_row(tenant_id, store_code, item_code, now)
        try:
            raw = await self.collection.find_one_and_update(
                self.key(tenant_id, store_code, item_code),
                {
                    **self._increment(change_units, last_transaction_id, now),
                    "$setOnInsert": new_row,
                },
                projection={"_id": False},
                upsert=True,
                return_document=ReturnDocument.AFTER,
                session=session,
            )
        except DuplicateKeyError as exc:
            raise lost_insert_race(exc) from exc
        doc = self._load(raw)
        assert doc is not None  # an upsert always returns the row
        # Created by this update: `$setOnInsert` and `$set` wrote the same instant.
        return doc, doc.created_at == doc.updated_at

    async def increment_many(
        self,
        tenant_id: str,
        totals: Mapping[tuple[str, str], tuple[int, str | None]],
        *,
        session: AsyncClientSession,
    ) -> dict[tuple[str, str], tuple[StockDocument, bool]]:
        """`increment` for several rows, `(store, item) -> (units, last transaction)`, in two
        commands: every upsert in one write, then the rows read back in the same transaction
        (they hold exactly these changes on top of what was committed: a concurrent writer of
        one of them conflicts with this transaction). Row and "created by this update" per key.
        """
        now = utcnow()
        keys = list(totals)
        ops = [
            UpdateOne(
                self.key(tenant_id, store, item),
                {
                    **self._increment(units, last, now),
                    "$setOnInsert": self._new_row(tenant_id, store, item, now),
                },
                upsert=True,
            )
            for (store, item), (units, last) in totals.items()
        ]
        try:
            result = await self.collection.bulk_write(ops, session=session)
        except BulkWriteError as exc:
            errors = exc.details.get("writeErrors", [])
            duplicate = next((e for e in errors if e.get("code") == 11000), None)
            if duplicate is not None:
                race = DuplicateKeyError(duplicate.get("errmsg", "duplicate key"), 11000)
                raise lost_insert_race(race) from exc
            raise
        created = {keys[i] for i in result.upserted_ids}
        stores = {store for store, _ in keys}
        if len(stores) == 1:
            query: dict[str, Any] = {
                "tenant_id": tenant_id,
                "store_code": next(iter(stores)),
                "item_code": {"$in": [item for _, item in keys]},
            }
        else:
            query = {"$or": [self.key(tenant_id, store, item) for store, item in keys]}
        rows: dict[tuple[str, str], tuple[StockDocument, bool]] = {}
        async for raw in self.collection.find(query, _PROJECTION, session=session):
            doc = self._load(raw)
            assert doc is not None
            key = (doc.store_code, doc.item_code)
            rows[key] = (doc, key in created)
        return rows

    async def set_average_costs(
        self,
        tenant_id: str,
        averages: Mapping[tuple[str, str], int],
        *,
        session: AsyncClientSession,
    ) -> None:
        """`(store, item) -> average cost units`, in one command, on rows this transaction
        has just incremented (so they exist and are this transaction's to write)."""
        await self.collection.bulk_write(
            [
                UpdateOne(self.key(tenant_id, store, item), {"$set": {"average_cost_units": units}})
                for (store, item), units in averages.items()
            ],
            session=session,
        )

    async def set_thresholds(
        self,
        tenant_id: str,
        store_code: str,
        item_code: str,
        values: dict[str, int],
        *,
        session: AsyncClientSession | None = None,
    ) -> StockDocument:
        """Create-or-update thresholds; a new row has quantity 0 and `updated_at` null."""
        new_row = {
            **self._new_row(tenant_id, store_code, item_code, utcnow()),
            "current_units": 0,
            "last_transaction_id": None,
        }
        for name in values:
            new_row.pop(name, None)
        try:
            raw = await self.collection.find_one_and_update(
                self.key(tenant_id, store_code, item_code),
                {"$set": values, "$setOnInsert": new_row},
                projection=_PROJECTION,
                upsert=True,
                return_document=ReturnDocument.AFTER,
                session=session,
            )
        except DuplicateKeyError as exc:
            raise lost_insert_race(exc) from exc
        doc = self._load(raw)
        assert doc is not None
        return doc

    async def store_rows(
        self, tenant_id: str, store_code: str, *, limit: int = 0
    ) -> list[StockDocument]:
        cursor = self.collection.find(
            {"tenant_id": tenant_id, "store_code": store_code}, _PROJECTION
        ).sort([("item_code", ASCENDING)])
        if limit:
            cursor = cursor.limit(limit)
        return [doc for raw in await cursor.to_list() if (doc := self._load(raw))]

    async def rows_of(
        self,
        tenant_id: str,
        store_code: str,
        item_codes: list[str],
        *,
        session: AsyncClientSession | None = None,
    ) -> list[StockDocument]:
        """The rows of these items (those that exist), in one query."""
        if not item_codes:
            return []
        cursor = self.collection.find(
            {"tenant_id": tenant_id, "store_code": store_code, "item_code": {"$in": item_codes}},
            _PROJECTION,
            session=session,
        )
        return [doc for raw in await cursor.to_list() if (doc := self._load(raw))]

    async def page(
        self, tenant_id: str, store_code: str, params: PageParams
    ) -> Page[StockDocument]:
        sorted_params = PageParams(limit=params.limit, page=params.page, sort=[("item_code", 1)])
        return await self.list({"tenant_id": tenant_id, "store_code": store_code}, sorted_params)

    async def store_codes(self, tenant_id: str) -> list[str]:
        return sorted(await self.collection.distinct("store_code", {"tenant_id": tenant_id}))


class StockUpdateRepository(Repository[StockUpdateDocument]):
    collection_name = "stock_updates"
    document_type = StockUpdateDocument
    indexes = (
        index("tenant_id", "store_code", "item_code", "-timestamp"),
        # The movements report: one store's rows over a time range (`movements`).
        index("tenant_id", "store_code", "timestamp"),
        index("update_type"),
        index("-timestamp"),
        index("reference_id"),
        index("transaction_key"),
    )
    default_sort = (("timestamp", DESCENDING),)

    async def add(self, doc: StockUpdateDocument, *, session: AsyncClientSession) -> None:
        await self.add_many([doc], session=session)

    async def add_many(
        self, docs: list[StockUpdateDocument], *, session: AsyncClientSession
    ) -> None:
        """One command for a sale's rows (each command of a transaction is a round trip the
        transaction holds its locks through)."""
        for doc in docs:
            doc.created_by = doc.created_by or self.actor
        if len(docs) == 1:
            await self.collection.insert_one(docs[0].to_mongo(), session=session)
        elif docs:
            await self.collection.insert_many([d.to_mongo() for d in docs], session=session)

    async def page(
        self, tenant_id: str, store_code: str, item_code: str, params: PageParams
    ) -> Page[StockUpdateDocument]:
        sorted_params = PageParams(limit=params.limit, page=params.page, sort=[("timestamp", -1)])
        return await self.list(
            {"tenant_id": tenant_id, "store_code": store_code, "item_code": item_code},
            sorted_params,
        )

    async def movement_rows(
        self, tenant_id: str, store_code: str, start: datetime, end: datetime
    ) -> list[dict[str, Any]]:
        """The store's rows in `[start, end)`, only what the movements report sums."""
        cursor = self.collection.find(
            {
                "tenant_id": tenant_id,
                "store_code": store_code,
                "timestamp": {"$gte": start, "$lt": end},
            },
            {"_id": False, "update_type": True, "change_units": True, "timestamp": True},
        )
        return await cursor.to_list()
