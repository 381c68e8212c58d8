"""Journal rules: search, export, receipt lookup and archiving entries (no HTTP types)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import PyMongoError

from kugelpos.common.db.mongo import Mongo
from kugelpos.common.errors import AlreadyExistsError, DatabaseError
from kugelpos.common.pagination import Page, PageParams, SortSpec

from ..errors import (
    ExportError,
    JournalCreationError,
    JournalNotFoundError,
    JournalQueryError,
    JournalValidationError,
)
from . import export
from .documents import JournalDocument
from .query import JournalQuery
from .repository import JournalRepository
from .schemas import JournalSchema

type EnsureTenant = Callable[[str], Awaitable[AsyncDatabase]]


class JournalService:
    def __init__(self, mongo: Mongo, ensure_tenant: EnsureTenant, *, batch_size: int) -> None:
        self._mongo = mongo
        self._ensure_tenant = ensure_tenant  # indexes first: the unique key makes writes safe
        self._batch_size = batch_size

    def _repo(self, tenant_id: str, actor: str | None = None) -> JournalRepository:
        return JournalRepository(self._mongo.tenant_db(tenant_id), actor=actor)

    async def search(
        self, tenant_id: str, store_code: str, query: JournalQuery, params: PageParams
    ) -> Page[JournalDocument]:
        try:
            return await self._repo(tenant_id).list(
                query.mongo_filter(tenant_id, store_code), params
            )
        except PyMongoError as exc:
            raise JournalQueryError("Journal search failed") from exc

    async def export_csv(
        self, tenant_id: str, store_code: str, query: JournalQuery, sort: SortSpec
    ) -> AsyncIterator[str]:
        """The header, then every matching entry (no paging), one chunk per batch."""
        repo = self._repo(tenant_id)
        filter_ = query.mongo_filter(tenant_id, store_code)
        yield export.render([], header=True)
        batch: list[dict] = []
        try:
            async for raw in repo.stream(filter_, sort, batch_size=self._batch_size):
                batch.append(raw)
                if len(batch) >= self._batch_size:
                    yield export.render(batch)
                    batch = []
        except PyMongoError as exc:
            # Headers are sent already: the truncated body is all a client can be told.
            raise ExportError("Journal export failed") from exc
        if batch:
            yield export.render(batch)

    async def receipt(
        self,
        tenant_id: str,
        store_code: str,
        terminal_no: int,
        receipt_no: int,
        business_date: str | None,
    ) -> JournalDocument:
        filter_: dict = {
            "tenant_id": tenant_id,
            "store_code": store_code,
            "terminal_no": terminal_no,
            "receipt_no": receipt_no,
        }
        if business_date is not None:
            filter_["business_date"] = business_date
        try:
            doc = await self._repo(tenant_id).latest(filter_)
        except PyMongoError as exc:
            raise JournalQueryError("Receipt lookup failed") from exc
        if doc is None:
            where = f" on {business_date}" if business_date else ""
            raise JournalNotFoundError(
                f"No receipt {receipt_no} of terminal {terminal_no} in store {store_code}{where}"
            )
        return doc

    async def archive(
        self,
        tenant_id: str,
        store_code: str,
        terminal_no: int,
        body: JournalSchema,
        actor: str | None,
    ) -> JournalSchema:
        """Store one entry (Report archives its printed reports here). Idempotent on the
        natural key: a repeat writes nothing and answers the entry the journal holds."""
        if (body.tenant_id, body.store_code, body.terminal_no) != (
            tenant_id,
            store_code,
            terminal_no,
        ):
            raise JournalValidationError(
                "tenantId, storeCode and terminalNo of the body must match the path"
            )
        await self._ensure_tenant(tenant_id)
        repo = self._repo(tenant_id, actor)
        doc = body.to_document(actor)
        try:
            await repo.create(doc)
        except AlreadyExistsError:
            existing = await repo.by_natural_key(doc)
            if existing is None:  # cannot happen with the unique index; never hide it
                raise JournalCreationError("Journal entry could not be created") from None
            return JournalSchema.of(existing)
        except DatabaseError as exc:
            raise JournalCreationError("Journal entry could not be created") from exc
        return JournalSchema.of(doc)
