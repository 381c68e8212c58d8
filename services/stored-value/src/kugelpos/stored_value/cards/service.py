"""Cards: issued in batches, looked up (throttled), blocked and unblocked; the ledger read."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass

from pymongo.asynchronous.client_session import AsyncClientSession

from kugelpos.common.auth.passwords import dummy_hash, hash_password, verify_password
from kugelpos.common.db.mongo import Mongo
from kugelpos.common.pagination import Page, PageParams
from kugelpos.common.throttle import AttemptLimiter

from ..errors import CardNoInvalidError, CardNotFoundError, StatusChangeRefusedError
from ..ledger.book import Move, book
from ..ledger.documents import LedgerEntry, Movement
from ..ledger.repository import LedgerRepository
from .documents import CardDocument, CardKind, CardStatus
from .numbers import is_valid, masked, new_card_no, new_pin
from .repository import CardRepository


@dataclass(frozen=True, slots=True)
class Issued:
    card: CardDocument
    pin: str | None  # shown once, with the number, to print


class CardService:
    def __init__(
        self, mongo: Mongo, limiter: AttemptLimiter, *, pin_rounds: int, max_balance: int
    ) -> None:
        self._mongo = mongo
        self._limiter = limiter
        self._pin_rounds = pin_rounds
        self._max_balance = max_balance

    def _repo(self, tenant_id: str, actor: str | None = None) -> CardRepository:
        return CardRepository(self._mongo.tenant_db(tenant_id), actor=actor)

    async def issue(
        self, tenant_id: str, kind: CardKind, count: int, *, with_pin: bool, actor: str | None
    ) -> list[Issued]:
        """`count` inactive cards with random numbers (and PINs): a 16-digit space of 10^14
        makes a clash vanishingly rare, and the unique index refuses one if it happens."""
        pins = [new_pin() if with_pin else None for _ in range(count)]
        hashes = await asyncio.gather(*(self._hash(p) for p in pins))
        issued = [
            Issued(
                CardDocument(tenant_id=tenant_id, card_no=new_card_no(), kind=kind, pin_hash=h),
                pin,
            )
            for pin, h in zip(pins, hashes, strict=True)
        ]
        await self._repo(tenant_id, actor).insert_many([i.card for i in issued])
        return issued

    async def _hash(self, pin: str | None) -> str | None:
        if pin is None:
            return None
        return await asyncio.to_thread(hash_password, pin, self._pin_rounds)

    async def lookup(
        self, tenant_id: str, card_no: str, *, pin: str | None, caller: str | None
    ) -> CardDocument:
        """The card for a caller who must prove it holds it (a till): `caller` is the key the
        failed attempts are counted under; None (the back office) skips PIN and throttle.
        An unknown number and a wrong PIN fail alike, and alike count."""
        if not is_valid(card_no):
            raise CardNoInvalidError("Card number must be 16 digits with a valid check digit")
        if caller is not None:
            await self._limiter.check(tenant_id, caller)
        card = await self._repo(tenant_id).by_no(tenant_id, card_no)
        if caller is None:
            if card is None:
                raise CardNotFoundError(f"Card {masked(card_no)} not found")
            return card
        if card is None and pin:
            # The same bcrypt cost as a wrong PIN: timing must not tell a number exists.
            await asyncio.to_thread(verify_password, pin, dummy_hash())
        if card is None or not await self._pin_matches(card, pin):
            await self._limiter.record_failure(tenant_id, caller)
            raise CardNotFoundError(f"Card {masked(card_no)} not found or PIN does not match")
        return card

    async def _pin_matches(self, card: CardDocument, pin: str | None) -> bool:
        if card.pin_hash is None:
            return True
        if not pin:
            return False
        return await asyncio.to_thread(verify_password, pin, card.pin_hash)

    async def get(self, tenant_id: str, card_no: str) -> CardDocument:
        return await self.lookup(tenant_id, card_no, pin=None, caller=None)

    async def list(
        self,
        tenant_id: str,
        params: PageParams,
        *,
        kind: CardKind | None,
        status: CardStatus | None,
    ) -> Page[CardDocument]:
        filter_: dict[str, str] = {"tenant_id": tenant_id}
        if kind is not None:
            filter_["kind"] = kind.value
        if status is not None:
            filter_["status"] = status.value
        return await self._repo(tenant_id).list(filter_, params)

    async def ledger(self, tenant_id: str, card_no: str, params: PageParams) -> Page[LedgerEntry]:
        await self.get(tenant_id, card_no)
        return await LedgerRepository(self._mongo.tenant_db(tenant_id)).of_card(
            tenant_id, card_no, params
        )

    async def block(self, tenant_id: str, card_no: str, *, actor: str | None) -> CardDocument:
        return await self._status(
            tenant_id, card_no, Movement.BLOCK, CardStatus.ACTIVE, CardStatus.BLOCKED, actor
        )

    async def unblock(self, tenant_id: str, card_no: str, *, actor: str | None) -> CardDocument:
        return await self._status(
            tenant_id, card_no, Movement.UNBLOCK, CardStatus.BLOCKED, CardStatus.ACTIVE, actor
        )

    async def _status(
        self,
        tenant_id: str,
        card_no: str,
        kind: Movement,
        before: CardStatus,
        after: CardStatus,
        actor: str | None,
    ) -> CardDocument:
        await self.get(tenant_id, card_no)
        db = self._mongo.tenant_db(tenant_id)
        move = Move(
            kind,
            f"{kind.value}:{uuid.uuid4().hex}",
            0,
            condition={"status": before.value},
            set_={"status": after.value},
        )

        async def work(session: AsyncClientSession) -> CardDocument | None:
            booked = await book(
                db,
                tenant_id,
                card_no,
                move,
                session=session,
                actor=actor,
                max_balance=self._max_balance,
            )
            return None if booked is None else booked.card

        card = await self._mongo.in_transaction(work)
        if card is None:
            now = await self.get(tenant_id, card_no)
            raise StatusChangeRefusedError(
                f"Card {masked(card_no)} is {now.status.value}, not {before.value}"
            )
        return card
