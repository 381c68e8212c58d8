"""Card expiry and breakage: a card of a kind the tenant sets an expiry for, unused for that
many days (no load, refund, hold or capture), with no open hold, expires: its balance is
written off (a ledger entry `expiry`, the liability report's `expired`) and it takes no
movement any more. Each card is one conditional update (its status, balance and held amount
as read), so a card used meanwhile is left for the next run and two runs expire it once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from pymongo.asynchronous.client_session import AsyncClientSession

from kugelpos.common.clock import utcnow
from kugelpos.common.db.mongo import Mongo

from ..cards.documents import CardKind, CardStatus
from ..cards.repository import CardRepository
from ..ledger.book import Ctx, Move, book_move
from ..ledger.documents import Movement
from .documents import CardSettings
from .repository import CardSettingsRepository

USABLE = [CardStatus.ACTIVE.value, CardStatus.BLOCKED.value]


@dataclass(frozen=True, slots=True)
class Expired:
    cards: int
    breakage: int  # the balances written off, minor units


class ExpiryService:
    def __init__(self, mongo: Mongo, *, max_balance: int) -> None:
        self._mongo = mongo
        self._max_balance = max_balance

    async def settings(self, tenant_id: str) -> CardSettings:
        found = await CardSettingsRepository(self._mongo.tenant_db(tenant_id)).find_one(
            {"tenant_id": tenant_id}
        )
        return found or CardSettings(tenant_id=tenant_id)

    async def set_settings(
        self, tenant_id: str, gift_days: int | None, credit_days: int | None, actor: str | None
    ) -> CardSettings:
        repo = CardSettingsRepository(self._mongo.tenant_db(tenant_id), actor=actor)
        await repo.collection.update_one(
            {"tenant_id": tenant_id},
            {
                "$set": {
                    "gift_expiry_days": gift_days,
                    "credit_expiry_days": credit_days,
                    "updated_at": utcnow(),
                    "updated_by": actor,
                },
                "$setOnInsert": {"tenant_id": tenant_id, "created_at": utcnow()},
            },
            upsert=True,
        )
        return await self.settings(tenant_id)

    async def expire(self, tenant_id: str, now: datetime | None = None) -> Expired:
        now = now or utcnow()
        settings = await self.settings(tenant_id)
        db = self._mongo.tenant_db(tenant_id)
        cards, breakage = 0, 0
        for kind, days in (
            (CardKind.GIFT, settings.gift_expiry_days),
            (CardKind.CREDIT, settings.credit_expiry_days),
        ):
            if days is None:
                continue
            cutoff = now - timedelta(days=days)
            due = CardRepository(db).collection.find(
                {
                    "tenant_id": tenant_id,
                    "kind": kind.value,
                    "status": {"$in": USABLE},
                    "held": 0,
                    "last_activity_at": {"$lt": cutoff},
                },
                {"_id": False, "card_no": True, "balance": True, "status": True},
            )
            async for card in due:
                written_off = await self._expire_one(tenant_id, card, cutoff)
                if written_off is not None:
                    cards += 1
                    breakage += written_off
        return Expired(cards, breakage)

    async def _expire_one(self, tenant_id: str, card: dict, cutoff: datetime) -> int | None:
        balance = int(card.get("balance") or 0)
        move = Move(
            Movement.EXPIRY,
            f"expiry:{card['card_no']}",
            balance,
            change=-balance,
            condition={
                "status": {"$in": USABLE},
                "held": 0,
                "last_activity_at": {"$lt": cutoff},
            },
            set_={"status": CardStatus.EXPIRED.value},
        )
        db = self._mongo.tenant_db(tenant_id)

        async def work(session: AsyncClientSession) -> int | None:
            ctx = Ctx(db, tenant_id, session, "service:stored-value", self._max_balance)
            booked = await book_move(ctx, card["card_no"], move)
            return None if booked is None else balance

        return await self._mongo.in_transaction(work)
