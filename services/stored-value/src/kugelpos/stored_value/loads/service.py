"""Pending loads over HTTP: registered by the cart while its customer is at the till, read
back (with whether a void could still take the load off the card)."""

from __future__ import annotations

from dataclasses import dataclass

from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.errors import DuplicateKeyError

from kugelpos.common.db.mongo import Mongo

from ..cards.numbers import is_valid
from ..cards.repository import CardRepository
from ..errors import CardNoInvalidError, LoadNotFoundError
from ..ledger.book import Ctx
from ..ledger.documents import Movement
from ..ledger.repository import LedgerRepository
from . import operations
from .documents import LoadDocument, LoadState
from .repository import LoadRepository


@dataclass(frozen=True, slots=True)
class LoadView:
    load: LoadDocument
    # A void may take it off again: applied, and nothing taken off its card since.
    reversible: bool


class LoadService:
    def __init__(self, mongo: Mongo, *, max_balance: int) -> None:
        self._mongo = mongo
        self._max_balance = max_balance

    async def register(self, load: LoadDocument, *, actor: str | None) -> LoadDocument:
        if not is_valid(load.card_no):
            raise CardNoInvalidError("Card number must be 16 digits with a valid check digit")
        tenant_id = load.tenant_id
        db = self._mongo.tenant_db(tenant_id)

        async def work(session: AsyncClientSession) -> LoadDocument:
            ctx = Ctx(db, tenant_id, session, actor, self._max_balance)
            return await operations.register(ctx, load)

        try:
            return await self._mongo.in_transaction(work)
        except DuplicateKeyError:
            return await self._mongo.in_transaction(work)  # a retried request won: answer it

    async def get(self, tenant_id: str, load_id: str) -> LoadView:
        db = self._mongo.tenant_db(tenant_id)
        load = await LoadRepository(db).by_id(tenant_id, load_id)
        if load is None:
            raise LoadNotFoundError(f"Load {load_id} not found")
        return LoadView(load, await self._reversible(load))

    async def _reversible(self, load: LoadDocument) -> bool:
        if load.state is not LoadState.APPLIED:
            return False
        db = self._mongo.tenant_db(load.tenant_id)
        card = await CardRepository(db).by_no(load.tenant_id, load.card_no)
        if card is None or card.balance < load.amount or card.held:
            return False
        entry = await LedgerRepository(db).find_one(
            {"tenant_id": load.tenant_id, "entry_key": f"{load.kind.value}:{load.load_id}"}
        )
        if entry is None:
            return False
        spent = await LedgerRepository(db).collection.find_one(
            {
                "tenant_id": load.tenant_id,
                "card_no": load.card_no,
                "at": {"$gte": entry.at},
                "change": {"$lt": 0},
                "kind": {"$ne": Movement.UNLOAD.value},
            },
            {"_id": 1},
        )
        return spent is None
