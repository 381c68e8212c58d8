"""Persistence of offline blocks, rejections and discrepancies, and the block reservation on
the terminal's counters."""

from __future__ import annotations

import contextlib

from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.errors import DuplicateKeyError

from kugelpos.common.clock import utcnow
from kugelpos.common.db.indexes import index
from kugelpos.common.db.repository import Repository

from ..transactions.repository import RECEIPT, TRANSACTION, CounterRepository
from .blocks import BlockPlan, plan_block
from .documents import OfflineBlockDocument, OfflineDiscrepancyDocument, OfflineRejectionDocument

_TERMINAL = ("tenant_id", "store_code", "terminal_no")


class OfflineBlockRepository(Repository[OfflineBlockDocument]):
    collection_name = "info_offline_block"
    document_type = OfflineBlockDocument
    indexes = (
        index("block_id", unique=True),
        index("terminal_id", "transaction_no_from", unique=True),
    )
    default_sort = (("transaction_no_from", 1),)


class OfflineRejectionRepository(Repository[OfflineRejectionDocument]):
    """The manager's list of offline sales still refused: one entry per sale (its latest
    reason, how many times it was sent), gone once a corrected resend is accepted."""

    collection_name = "log_offline_rejection"
    document_type = OfflineRejectionDocument
    indexes = (index(*_TERMINAL, "created_at"), index("terminal_id", "offline_id"))

    async def record(self, doc: OfflineRejectionDocument) -> None:
        if doc.offline_id is None:  # malformed past naming itself: each one kept
            await self.create(doc)
            return
        now = utcnow()
        latest = doc.to_mongo()
        for name in ("created_at", "created_by", "attempts"):
            latest.pop(name, None)
        await self.collection.update_one(
            {"terminal_id": doc.terminal_id, "offline_id": doc.offline_id},
            {
                "$set": {**latest, "updated_at": now, "updated_by": self.actor},
                "$inc": {"attempts": 1},
                "$setOnInsert": {"created_at": now, "created_by": self.actor},
            },
            upsert=True,
        )

    async def resolved(
        self, terminal_id: str, offline_id: str, *, session: AsyncClientSession
    ) -> None:
        """The sale was accepted after all (in its transaction): off the list."""
        await self.collection.delete_many(
            {"terminal_id": terminal_id, "offline_id": offline_id}, session=session
        )


class OfflineDiscrepancyRepository(Repository[OfflineDiscrepancyDocument]):
    collection_name = "log_offline_discrepancy"
    document_type = OfflineDiscrepancyDocument
    indexes = (
        index("terminal_id", "transaction_no", "line_no", unique=True),
        index(*_TERMINAL, "created_at"),
    )


OFFLINE_REPOSITORIES = (
    OfflineBlockRepository,
    OfflineRejectionRepository,
    OfflineDiscrepancyRepository,
)

MAX_ATTEMPTS = 20


class BlockContention(RuntimeError):
    """The counter kept moving under the reservation (bills at the same moment)."""


async def advance_counters(
    counters: CounterRepository,
    terminal_id: str,
    size: int,
    start: int,
    end: int,
    *,
    session: AsyncClientSession | None = None,
) -> BlockPlan:
    """Move both counters past a block in ONE atomic `$inc`, conditional on the values the
    plan was made from (a bill in between moves them: plan again). Online selling continues
    after the block, so it never uses a reserved number."""
    collection = counters.collection
    now = utcnow()
    with contextlib.suppress(DuplicateKeyError):  # a first bill may create it at the same time
        await collection.update_one(
            {"terminal_id": terminal_id},
            {"$setOnInsert": {"count_dic": {TRANSACTION: 0, RECEIPT: 0}, "created_at": now}},
            upsert=True,
            session=session,
        )
    for _ in range(MAX_ATTEMPTS):
        raw = await collection.find_one(
            {"terminal_id": terminal_id}, {"_id": False, "count_dic": True}, session=session
        )
        counts = (raw or {}).get("count_dic") or {}
        tno, rno = int(counts.get(TRANSACTION, 0)), int(counts.get(RECEIPT, 0))
        plan = plan_block(tno, rno, size, start, end)
        result = await collection.update_one(
            {
                "terminal_id": terminal_id,
                f"count_dic.{TRANSACTION}": tno,
                f"count_dic.{RECEIPT}": rno,
            },
            {
                "$inc": {
                    f"count_dic.{TRANSACTION}": plan.transaction_inc,
                    f"count_dic.{RECEIPT}": plan.receipt_inc,
                },
                "$set": {"last_used_at": now, "updated_at": now},
            },
            session=session,
        )
        if result.modified_count == 1:
            return plan
    raise BlockContention(f"counter of {terminal_id} kept moving")
