"""A typed generic repository over one collection of one tenant database."""

from __future__ import annotations

from typing import Any, ClassVar

from pymongo import ASCENDING, DESCENDING, ReturnDocument
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError, PyMongoError

from ..clock import utcnow
from ..errors import AlreadyExistsError, DatabaseError, NotFoundError
from ..pagination import Page, PageParams
from .documents import Document
from .indexes import Index
from .mongo import is_write_conflict

type Filter = dict[str, Any]
_PROJECTION = {"_id": False}


class Repository[D: Document]:
    """Subclasses set `collection_name`, `document_type` and `indexes`.

    `actor` is written to `created_by` / `updated_by`; `session` joins a transaction.
    """

    collection_name: ClassVar[str]
    document_type: type[D]
    indexes: ClassVar[tuple[Index, ...]] = ()
    default_sort: ClassVar[tuple[tuple[str, int], ...]] = (("created_at", DESCENDING),)

    def __init__(self, db: AsyncDatabase, *, actor: str | None = None) -> None:
        self.db = db
        self.actor = actor
        self.collection: AsyncCollection = db[self.collection_name]

    @classmethod
    async def ensure_indexes(cls, db: AsyncDatabase) -> None:
        """Idempotent: creating an index that exists with the same options is a no-op."""
        if cls.indexes:
            col = db[cls.collection_name]
            await col.create_indexes([i.model(cls.collection_name) for i in cls.indexes])

    def _load(self, raw: dict[str, Any] | None) -> D | None:
        if raw is None:
            return None
        raw.pop("_id", None)
        return self.document_type.model_validate(raw)

    async def create(self, doc: D, *, session: AsyncClientSession | None = None) -> D:
        """Insert. A write conflict inside a transaction is re-raised unchanged, for the
        transaction's retry (never a DatabaseError)."""
        doc.created_at = utcnow()
        doc.created_by = doc.created_by or self.actor
        try:
            await self.collection.insert_one(doc.to_mongo(), session=session)
        except DuplicateKeyError as exc:
            raise AlreadyExistsError(f"{self.collection_name}: record already exists") from exc
        except PyMongoError as exc:
            if session is not None and session.in_transaction and is_write_conflict(exc):
                raise
            raise DatabaseError(f"{self.collection_name}: insert failed") from exc
        return doc

    async def find_one(
        self, filter_: Filter, *, session: AsyncClientSession | None = None
    ) -> D | None:
        raw = await self.collection.find_one(filter_, _PROJECTION, session=session)
        return self._load(raw)

    async def get(
        self, filter_: Filter, *, what: str | None = None, session: AsyncClientSession | None = None
    ) -> D:
        doc = await self.find_one(filter_, session=session)
        if doc is None:
            raise NotFoundError(f"{what or self.collection_name} not found")
        return doc

    async def update(
        self,
        filter_: Filter,
        changes: dict[str, Any],
        *,
        session: AsyncClientSession | None = None,
        extra: dict[str, Any] | None = None,
    ) -> D | None:
        """`$set` the changes (plus audit fields) and return the new document, or None."""
        update: dict[str, Any] = {
            "$set": {**changes, "updated_at": utcnow(), "updated_by": self.actor}
        }
        if extra:
            update.update(extra)
        try:
            raw = await self.collection.find_one_and_update(
                filter_,
                update,
                projection=_PROJECTION,
                return_document=ReturnDocument.AFTER,
                session=session,
            )
        except DuplicateKeyError as exc:
            raise AlreadyExistsError(f"{self.collection_name}: record already exists") from exc
        return self._load(raw)

    async def replace(
        self, filter_: Filter, doc: D, *, session: AsyncClientSession | None = None
    ) -> bool:
        doc.updated_at = utcnow()
        doc.updated_by = self.actor
        try:
            result = await self.collection.replace_one(filter_, doc.to_mongo(), session=session)
        except DuplicateKeyError as exc:
            raise AlreadyExistsError(f"{self.collection_name}: record already exists") from exc
        return result.matched_count == 1

    async def delete(self, filter_: Filter, *, session: AsyncClientSession | None = None) -> bool:
        result = await self.collection.delete_one(filter_, session=session)
        return result.deleted_count == 1

    async def count(self, filter_: Filter, *, session: AsyncClientSession | None = None) -> int:
        return await self.collection.count_documents(filter_, session=session)

    async def list(
        self, filter_: Filter, params: PageParams, *, session: AsyncClientSession | None = None
    ) -> Page[D]:
        sort = [
            (f, ASCENDING if d > 0 else DESCENDING) for f, d in params.sort or self.default_sort
        ]
        # Ties (same millisecond, same value) must not reorder between pages: `_id` breaks them.
        if all(f != "_id" for f, _ in sort):
            sort.append(("_id", sort[-1][1] if sort else DESCENDING))
        cursor = self.collection.find(filter_, _PROJECTION, session=session).sort(sort)
        if params.skip:
            cursor = cursor.skip(params.skip)
        if params.limit:
            cursor = cursor.limit(params.limit)
        items = [doc for raw in await cursor.to_list() if (doc := self._load(raw))]
        total = await self.count(filter_, session=session)
        return Page(items=items, total=total, params=params)
