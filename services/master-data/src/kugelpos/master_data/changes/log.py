"""`ChangeLog`: what every write of master data calls to run its change and the change's log
entry in one transaction (the domains' services never build entries themselves)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.errors import PyMongoError

from kugelpos.common.clock import utcnow
from kugelpos.common.db.documents import Document
from kugelpos.common.db.mongo import Mongo, is_write_conflict
from kugelpos.common.db.repository import Repository
from kugelpos.common.errors import ConflictError

from ..config import MasterDataSettings
from .documents import ChangeEntry, LogKind, Op
from .repository import ChangeLogRepository

# Never in a log entry: the staff PIN's hash, and what only the database needs.
_LEFT_OUT = frozenset({"_id", "tenant_id", "shard_key", "pin_hash", "pin"})


def record_data(doc: Document | dict[str, Any]) -> dict[str, Any]:
    """The record as stored (snake_case, money as doubles), without secrets."""
    raw = doc.to_mongo() if isinstance(doc, Document) else dict(doc)
    data = {k: v for k, v in raw.items() if k not in _LEFT_OUT}
    if "pin_hash" in raw:
        data["has_pin"] = bool(raw["pin_hash"])  # whether a PIN is set, never the PIN
    return data


class ChangeLog:
    def __init__(self, mongo: Mongo, settings: MasterDataSettings) -> None:
        self._mongo = mongo
        self._settings = settings
        # Tenants whose tax table this process has logged (or found logged) since it started.
        self._taxes_logged: set[str] = set()

    def repo(self, tenant_id: str) -> ChangeLogRepository:
        return ChangeLogRepository(self._mongo.tenant_db(tenant_id))

    async def transaction[R](self, work: Callable[[AsyncClientSession], Awaitable[R]]) -> R:
        """Run a change and its `record` calls in one transaction (commons `Mongo`'s,
        retried on a write conflict: two changes of a tenant at once conflict on the counter).
        A conflict still lost after every attempt (a burst of writes to one tenant on a
        replica set) is a 409 the client may retry, nothing written, not a 500."""
        try:
            return await self._mongo.in_transaction(work)
        except PyMongoError as exc:
            if is_write_conflict(exc):
                raise ConflictError(
                    "Master data of this tenant is being changed by other requests right now; "
                    "nothing was written, try again"
                ) from exc
            raise

    async def record(
        self,
        session: AsyncClientSession,
        tenant_id: str,
        kind: LogKind,
        key: str,
        data: Document | dict[str, Any] | None,
        *,
        op: Op = Op.UPSERT,
        store_code: str | None = None,
        created: bool = False,
    ) -> int:
        """Append one entry (its seq from the tenant's counter, in `session`'s transaction)."""
        repo = self.repo(tenant_id)
        seq = await repo.next_seq(session)
        entry = ChangeEntry(
            seq=seq,
            kind=kind,
            key=key,
            store_code=store_code,
            op=op,
            at=utcnow(),
            data=None if data is None else record_data(data),
            created=created,
        )
        await repo.append(entry, session)
        return seq

    # ---- the usual writes, each with its entry ---------------------------------------------

    async def create[D: Document](
        self,
        repo: Repository[D],
        tenant_id: str,
        kind: LogKind,
        key: str,
        doc: D,
        *,
        store_code: str | None = None,
    ) -> D:
        async def work(session: AsyncClientSession) -> D:
            created = await repo.create(doc, session=session)
            await self.record(
                session, tenant_id, kind, key, created, store_code=store_code, created=True
            )
            return created

        return await self.transaction(work)

    async def update[D: Document](
        self,
        repo: Repository[D],
        tenant_id: str,
        kind: LogKind,
        key: str,
        filter_: dict[str, Any],
        changes: dict[str, Any],
        *,
        op: Op = Op.UPSERT,
        store_code: str | None = None,
    ) -> D | None:
        """`$set` the changes; logged only when a record matched. `op=DELETE`: a logical
        delete (the entry keeps the record as it stood)."""

        async def work(session: AsyncClientSession) -> D | None:
            doc = await repo.update(filter_, changes, session=session)
            if doc is not None:
                await self.record(session, tenant_id, kind, key, doc, op=op, store_code=store_code)
            return doc

        return await self.transaction(work)

    async def delete(
        self,
        repo: Repository,
        tenant_id: str,
        kind: LogKind,
        key: str,
        filter_: dict[str, Any],
        *,
        store_code: str | None = None,
    ) -> bool:
        async def work(session: AsyncClientSession) -> bool:
            deleted = await repo.delete(filter_, session=session)
            if deleted:
                await self.record(
                    session, tenant_id, kind, key, None, op=Op.DELETE, store_code=store_code
                )
            return deleted

        return await self.transaction(work)

    async def ensure_tax_table(self, tenant_id: str) -> None:
        """Once per tenant per process, before its first feed: the log's indexes and
        `log_tax_table`; the feed's later reads cost nothing more."""
        if tenant_id not in self._taxes_logged:
            # A tenant set up before the log existed gets its indexes here (idempotent).
            await ChangeLogRepository.ensure_indexes(self._mongo.tenant_db(tenant_id))
            await self.log_tax_table(tenant_id)
            self._taxes_logged.add(tenant_id)

    async def log_tax_table(self, tenant_id: str) -> bool:
        """Taxes are configuration: log the difference between the configured table and the
        table last logged (upserts, deletes), so a till's delta sees a new tax master after a
        restart with another TAX_MASTER. True when something was logged."""
        repo = self.repo(tenant_id)
        wanted = {
            t.tax_code: t.model_dump(mode="json") for t in self._settings.taxes_for(tenant_id)
        }
        logged_list = await repo.logged_taxes()
        logged = {t["tax_code"]: t for t in logged_list or []}
        if logged_list is not None and logged == wanted:
            return False

        async def work(session: AsyncClientSession) -> None:
            for code, entry in wanted.items():
                if logged.get(code) != entry:
                    await self.record(
                        session, tenant_id, LogKind.TAX, code, entry, created=code not in logged
                    )
            for code in logged.keys() - wanted.keys():
                await self.record(session, tenant_id, LogKind.TAX, code, None, op=Op.DELETE)
            await repo.save_taxes(list(wanted.values()), session)

        await self.transaction(work)
        return True
