"""Blocks of transaction and receipt numbers reserved for a till's offline sales: the cart
keeps each terminal's counters, so it moves them past a block in one conditional update and
records the block in the same transaction; online selling never uses a reserved number."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

import structlog
from pymongo.asynchronous.client_session import AsyncClientSession

from ..errors import OfflineBlockSizeError
from ..transactions import tranlog as build
from ..transactions.repository import CounterRepository, TranlogRepository
from .base import OfflineBase, Till
from .blocks import MAX_BLOCK, MIN_BLOCK
from .documents import OfflineBlockDocument
from .repository import BlockContention, OfflineBlockRepository, advance_counters

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class BlockUse:
    block: OfflineBlockDocument
    used: list[int]
    unused: list[tuple[int, int]]


def gaps(lo: int, hi: int, used: Sequence[int]) -> list[tuple[int, int]]:
    """The runs of lo..hi not in `used` (sorted)."""
    runs, start = [], lo
    for n in sorted(u for u in set(used) if lo <= u <= hi):
        if n > start:
            runs.append((start, n - 1))
        start = n + 1
    if start <= hi:
        runs.append((start, hi))
    return runs


class OfflineNumbers(OfflineBase):
    # ---- blocks --------------------------------------------------------------------------------

    async def reserve(self, till: Till, size: int, by: str | None) -> OfflineBlockDocument:
        if isinstance(size, bool) or not MIN_BLOCK <= size <= MAX_BLOCK:
            raise OfflineBlockSizeError(f"size must be within {MIN_BLOCK}..{MAX_BLOCK}")
        await self.ready(till.tenant_id)
        start, end = build.receipt_range(
            await self.parameters(till),
            self._settings.receipt_no_start_value,
            self._settings.receipt_no_end_value,
        )
        if size > end - start + 1:
            raise OfflineBlockSizeError(
                f"size {size} is larger than the receipt number range {start}..{end}"
            )
        db = self.db(till.tenant_id)
        actor = by or "service"

        async def work(session: AsyncClientSession) -> OfflineBlockDocument:
            plan = await advance_counters(
                CounterRepository(db), till.terminal_id, size, start, end, session=session
            )
            block = OfflineBlockDocument(
                **till.key(),
                terminal_id=till.terminal_id,
                block_id=str(uuid.uuid4()),
                transaction_no_from=plan.transaction_no_from,
                transaction_no_to=plan.transaction_no_to,
                receipt_no_from=plan.receipt_no_from,
                receipt_no_to=plan.receipt_no_to,
                receipts_skipped=plan.receipts_skipped,
                by=by,
            )
            return await OfflineBlockRepository(db, actor=actor).create(block, session=session)

        try:
            block = await self._mongo.in_transaction(work)
        except BlockContention as exc:
            raise OfflineBlockSizeError("the counters kept moving; ask again") from exc
        log.info(
            "offline_block_reserved",
            terminal_id=till.terminal_id,
            block_id=block.block_id,
            transaction_no_from=block.transaction_no_from,
            size=size,
        )
        return block

    async def blocks(self, till: Till) -> list[BlockUse]:
        """The terminal's blocks with the numbers its accepted offline sales used; the rest
        are gaps (never used online: the counters moved past them)."""
        await self.ready(till.tenant_id)
        db = self.db(till.tenant_id)
        cursor = db[OfflineBlockRepository.collection_name].find(
            {"terminal_id": till.terminal_id}, {"_id": False}
        )
        blocks = [OfflineBlockDocument.model_validate(raw) for raw in await cursor.to_list()]
        blocks.sort(key=lambda b: b.transaction_no_from)
        used_cursor = db[TranlogRepository.collection_name].find(
            {**till.key(), "offline": True}, {"_id": False, "transaction_no": True}
        )
        used = [int(raw["transaction_no"]) for raw in await used_cursor.to_list()]
        result = []
        for block in blocks:
            lo, hi = block.transaction_no_from, block.transaction_no_to
            mine = sorted(n for n in used if lo <= n <= hi)
            result.append(BlockUse(block, mine, gaps(lo, hi, mine)))
        return result
