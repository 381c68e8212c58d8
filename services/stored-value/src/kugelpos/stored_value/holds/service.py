"""Holds over HTTP (the cart's payment, its removal and its bill), each in a transaction of
its own, and the release of holds past their time."""

from __future__ import annotations

from datetime import datetime

import structlog
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.errors import DuplicateKeyError, PyMongoError

from kugelpos.common.clock import utcnow
from kugelpos.common.db.mongo import Mongo
from kugelpos.common.errors import AppError

from ..cards.service import CardService
from ..errors import HoldNotFoundError
from ..ledger.book import Ctx
from . import operations
from .documents import HoldDocument, ReleaseReason
from .repository import HoldRepository

log = structlog.get_logger(__name__)


class HoldService:
    def __init__(
        self, mongo: Mongo, cards: CardService, *, ttl_seconds: int, max_balance: int
    ) -> None:
        self._mongo = mongo
        self._cards = cards
        self._ttl = ttl_seconds
        self._max_balance = max_balance

    def _ctx(self, tenant_id: str, session: AsyncClientSession, actor: str | None) -> Ctx:
        return Ctx(self._mongo.tenant_db(tenant_id), tenant_id, session, actor, self._max_balance)

    async def place(
        self,
        tenant_id: str,
        card_no: str,
        amount: int,
        *,
        hold_id: str,
        pin: str | None,
        caller: str | None,
        reference: str | None,
        store_code: str | None,
        terminal_no: int | None,
        actor: str | None,
        ttl_seconds: int | None = None,
    ) -> HoldDocument:
        # The PIN and the throttle first: a wrong PIN places nothing and costs an attempt.
        await self._cards.lookup(tenant_id, card_no, pin=pin, caller=caller)
        hold = HoldDocument(
            tenant_id=tenant_id,
            hold_id=hold_id,
            card_no=card_no,
            amount=amount,
            reference=reference,
            store_code=store_code,
            terminal_no=terminal_no,
            expires_at=operations.expiry_of(utcnow(), min(ttl_seconds or self._ttl, self._ttl)),
        )

        async def work(session: AsyncClientSession) -> HoldDocument:
            return await operations.place(self._ctx(tenant_id, session, actor), hold)

        try:
            return await self._mongo.in_transaction(work)
        except DuplicateKeyError:
            # The same hold id placed at once by a retried request: the other one won; this
            # run finds it (and answers it, or refuses a different card or amount).
            return await self._mongo.in_transaction(work)

    async def capture(
        self, tenant_id: str, hold_id: str, *, transaction: str | None, actor: str | None
    ) -> HoldDocument:
        async def work(session: AsyncClientSession) -> HoldDocument:
            return await operations.capture(
                self._ctx(tenant_id, session, actor), hold_id, transaction=transaction
            )

        return await self._mongo.in_transaction(work)

    async def release(self, tenant_id: str, hold_id: str, *, actor: str | None) -> HoldDocument:
        async def work(session: AsyncClientSession) -> HoldDocument:
            return await operations.release(
                self._ctx(tenant_id, session, actor), hold_id, ReleaseReason.REQUESTED
            )

        return await self._mongo.in_transaction(work)

    async def get(self, tenant_id: str, hold_id: str) -> HoldDocument:
        found = await HoldRepository(self._mongo.tenant_db(tenant_id)).by_id(tenant_id, hold_id)
        if found is None:
            raise HoldNotFoundError(f"Hold {hold_id} not found")
        return found

    async def release_due(
        self, tenant_id: str, now: datetime | None = None, limit: int = 500
    ) -> int:
        """Release the tenant's open holds past their time; how many this call released (a
        hold another replica released first is skipped, not released twice)."""
        now = now or utcnow()
        db = self._mongo.tenant_db(tenant_id)
        released = 0
        for hold in await HoldRepository(db).due(now, limit):

            async def work(session: AsyncClientSession, hold_id: str = hold.hold_id) -> bool:
                ctx = self._ctx(tenant_id, session, "service:stored-value")
                done = await operations.release(ctx, hold_id, ReleaseReason.EXPIRED)
                return done.release_reason is ReleaseReason.EXPIRED

            try:
                if await self._mongo.in_transaction(work):
                    released += 1
            except (PyMongoError, AppError) as exc:
                log.warning("hold_expiry_failed", tenant_id=tenant_id, error=type(exc).__name__)
        return released
