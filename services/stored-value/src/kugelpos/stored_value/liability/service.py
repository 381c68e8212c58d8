"""The liability report: what the tenant owes its card holders, per store and day.

A card's money is owed by the store that sold it (where it was activated: a gift card sold, a
return refunded onto new credit), wherever it is spent. Outstanding at the end of a day is the
money on the cards then, held amounts included (a hold is not spent until captured): the
balances and holds now, minus every movement since. Per day and store also the flows: loaded
(loads and refunds), redeemed (captures), unloaded (voids) and expired. Days are the service's
time zone's; integers in the currency's minor units."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from kugelpos.common.days import day_start, days_between, local_day
from kugelpos.common.db.mongo import Mongo

from ..cards.documents import CardStatus
from ..cards.repository import CardRepository
from ..ledger.documents import Movement
from ..ledger.repository import LedgerRepository

# Each kind's effect on what is owed (holds and releases move money between balance and held:
# still owed).
_OWED = {
    Movement.LOAD: 1,
    Movement.REFUND: 1,
    Movement.CAPTURE: -1,
    Movement.UNLOAD: -1,
    Movement.EXPIRY: -1,
}
_FLOW = {
    Movement.LOAD: "loaded",
    Movement.REFUND: "loaded",
    Movement.CAPTURE: "redeemed",
    Movement.UNLOAD: "unloaded",
    Movement.EXPIRY: "expired",
}
UNKNOWN_STORE = ""


@dataclass(slots=True)
class StoreDay:
    outstanding: int = 0
    loaded: int = 0
    redeemed: int = 0
    unloaded: int = 0
    expired: int = 0


@dataclass(frozen=True, slots=True)
class LiabilityDay:
    day: date
    stores: dict[str, StoreDay] = field(default_factory=dict)

    @property
    def outstanding(self) -> int:
        return sum(s.outstanding for s in self.stores.values())


@dataclass(frozen=True, slots=True)
class Liability:
    days: list[LiabilityDay]
    outstanding_now: int


class LiabilityService:
    def __init__(self, mongo: Mongo, *, timezone: str) -> None:
        self._mongo = mongo
        self._zone = ZoneInfo(timezone)

    async def report(
        self, tenant_id: str, first: date, last: date, store_code: str | None = None
    ) -> Liability:
        db = self._mongo.tenant_db(tenant_id)
        cards = CardRepository(db).collection.find(
            {"tenant_id": tenant_id, "status": {"$ne": CardStatus.INACTIVE.value}},
            {"_id": False, "card_no": True, "store_code": True, "balance": True, "held": True},
        )
        store_of: dict[str, str] = {}
        now: dict[str, int] = defaultdict(int)
        async for card in cards:
            store = card.get("store_code") or UNKNOWN_STORE
            store_of[card["card_no"]] = store
            now[store] += int(card.get("balance") or 0) + int(card.get("held") or 0)
        since = LedgerRepository(db).collection.find(
            {
                "tenant_id": tenant_id,
                "at": {"$gte": day_start(first, self._zone)},
                "kind": {"$in": [k.value for k in _OWED]},
            },
            {"_id": False, "card_no": True, "kind": True, "amount": True, "at": True},
        )
        days = {day: LiabilityDay(day) for day in days_between(first, last)}
        # What each store's cards gained after the end of each day: Σ over later movements.
        after: dict[date, dict[str, int]] = {day: defaultdict(int) for day in days}
        ends = {day: day_start(day + timedelta(days=1), self._zone) for day in days}
        async for entry in since:
            kind, amount = Movement(entry["kind"]), int(entry["amount"])
            store = store_of.get(entry["card_no"], UNKNOWN_STORE)
            owed = _OWED[kind] * amount
            for day, end in ends.items():
                if entry["at"].replace(tzinfo=end.tzinfo) >= end:
                    after[day][store] += owed
            day = local_day(entry["at"], self._zone)
            if day in days:
                flows = days[day].stores.setdefault(store, StoreDay())
                name = _FLOW[kind]
                setattr(flows, name, getattr(flows, name) + amount)
        stores = set(now) | {s for d in days.values() for s in d.stores}
        for day, report in days.items():
            for store in stores:
                value = now.get(store, 0) - after[day].get(store, 0)
                flows = report.stores.get(store)
                if flows is None and value == 0:
                    continue
                report.stores.setdefault(store, StoreDay()).outstanding = value
        if store_code is not None:
            for report in days.values():
                for other in [s for s in report.stores if s != store_code]:
                    del report.stores[other]
            return Liability(list(days.values()), now.get(store_code, 0))
        return Liability(list(days.values()), sum(now.values()))
