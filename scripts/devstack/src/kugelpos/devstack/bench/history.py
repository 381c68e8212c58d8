"""Earlier sales for the checkout benchmark: the store sells on top of a realistic history.

Why: a cost that grows with history (an index check, a query that scans, an outbox lookup of
the relay) stays invisible while the collections hold only the few hundred sales a benchmark
makes. Seeding through the HTTP API costs ~50 ms a sale on the embedded engine, so the history
is written straight into the cart's MongoDB instead, shaped exactly as the cart writes it:

- one real bill made through the API (on a spare till of the store) is the template; every
  earlier sale is a copy of its tranlog and outbox record through the cart's own models
  (`TranlogDocument` and its `payload()`, the configured receipt plugin for the receipt and
  journal texts, `OutboxRecord`, `ConsumerDelivery`, `overall_status`) with new numbers,
  dates, ids and texts; the first copy's fields are checked against the template's;
- numbers: each till's history takes the numbers its counter would hand out next (1..k on a
  fresh till) and the counter is advanced past them with the `$inc` a bill makes, so the sales
  timed afterwards go on from there and never collide; receipt numbers follow the cart's
  sequence and range (checked against the template's);
- dates: earlier business days (SALES_PER_TILL_DAY per till and day, 09:00-21:00 in the
  cart's time zone), so today's session and its summary hold only today's sales;
- outbox (one collection in the cart's commons database, shared by all tenants): one record
  per tranlog in the state the relay and the acknowledgements leave it, published and
  delivered to every consumer; UNACKNOWLEDGED_SHARE of the sales older than the relay's
  give-up delay were never acknowledged by one consumer and are given up. Nothing of it is due,
  so the relay leaves the history alone while the timed sales run, as it would in a store.
"""

from __future__ import annotations

import os
import random
import sys
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

from pymongo.asynchronous.database import AsyncDatabase

from kugelpos.common.db.mongo import Mongo
from kugelpos.common.events.outbox import (
    OUTBOX_COLLECTION,
    ConsumerDelivery,
    ConsumerStatus,
    DeliveryStatus,
    OutboxRecord,
    RelayStatus,
    overall_status,
)
from kugelpos.devstack.bench.scenarios import BenchContext
from kugelpos.devstack.bench.timing import LoadResult
from kugelpos.devstack.pos import Register, Shop, Till, add_till, open_till

HISTORY_SALES = int(os.environ.get("KUGELPOS_BENCH_HISTORY", "5000"))
BATCH = 500
SALES_PER_TILL_DAY = 300
UNACKNOWLEDGED_SHARE = 0.01
FIRST_SALE = timedelta(hours=9)
BUSINESS_HOURS = timedelta(hours=12)
# From the cart's creation to its bill; consumers acknowledge within milliseconds.
SALE_DURATION = timedelta(seconds=40)
ACK_DELAY = timedelta(milliseconds=30)
# Outbox keys that name the sale (the cart writes them from the tranlog's fields).
TRANLOG_KEYS = frozenset(
    {
        "tenant_id",
        "store_code",
        "terminal_no",
        "terminal_id",
        "transaction_no",
        "transaction_type",
        "business_date",
        "open_counter",
    }
)


def history_size(context: BenchContext) -> int:
    return HISTORY_SALES if context.history is None else max(0, context.history)


@dataclass(frozen=True)
class Seeded:
    """What a level's store held before its timed sales (the JSON's `seeded` entry)."""

    sales: int
    unacknowledged: int = 0
    outbox_total: int = 0  # the cart's whole outbox: every tenant seeded or sold so far
    seconds: float = 0.0
    insert_seconds: float = 0.0  # of `seconds`, in insert_many (the engine's share)

    def figures(self) -> dict[str, object]:
        if not self.sales:
            return {"tranlogs": 0, "outbox": 0}
        return {
            "tranlogs": self.sales,
            "outbox": self.sales,
            "unacknowledged": self.unacknowledged,
            "outbox_total": self.outbox_total,
            "seconds": round(self.seconds, 1),
            "insert_seconds": round(self.insert_seconds, 1),
        }


@dataclass(frozen=True)
class SeededResult(LoadResult):
    """A LoadResult taken over a seeded history: the JSON says how much, so nobody compares it
    with a figure taken on an empty store unawares."""

    seeded: Seeded | None = None

    def figures(self) -> dict[str, object]:
        figures = super().figures()
        if self.seeded is not None:
            figures["seeded"] = self.seeded.figures()
        return figures


def _cart(mongo_uri: str) -> SimpleNamespace:
    """The cart's settings, models and builders, imported late: the service package is
    installed with the stack and only this scenario needs it."""
    from kugelpos.cart.config import CartSettings
    from kugelpos.cart.plugins.registry import load_plugins
    from kugelpos.cart.transactions import repository
    from kugelpos.cart.transactions.documents import TranlogDocument
    from kugelpos.cart.transactions.tranlog import receipt_number, receipt_range

    settings = CartSettings(environment="development", mongodb_uri=mongo_uri)
    start, end = receipt_range({}, settings.receipt_no_start_value, settings.receipt_no_end_value)
    return SimpleNamespace(
        settings=settings,
        renderer=load_plugins(settings.plugins_file).receipt(),
        receipt_no=lambda sequence: receipt_number(sequence, start, end),
        tranlog_type=TranlogDocument,
        tranlogs=repository.TranlogRepository.collection_name,
        counters=repository.CounterRepository.collection_name,
        transaction_seq=repository.TRANSACTION,
        receipt_seq=repository.RECEIPT,
    )


def _share(count: int, parts: int) -> list[int]:
    return [count // parts + (i < count % parts) for i in range(parts)]


def _moments(count: int, today: date, zone: ZoneInfo) -> list[datetime]:
    """`count` bill times over the business days before `today`, oldest first, at uneven
    intervals with microseconds (as `app_now().isoformat()` writes them)."""
    days = -(-count // SALES_PER_TILL_DAY)
    step = BUSINESS_HOURS / SALES_PER_TILL_DAY
    rng = random.Random(count)
    moments = []
    for n in range(count):
        day = today - timedelta(days=days - n // SALES_PER_TILL_DAY)
        midnight = datetime(day.year, day.month, day.day, tzinfo=zone)
        jitter = timedelta(microseconds=rng.randrange(1, step // timedelta(microseconds=1)))
        moments.append(midnight + FIRST_SALE + step * (n % SALES_PER_TILL_DAY) + jitter)
    return moments


def _publishes_until(give_up: float, ack_timeout: float, ack_max: float) -> int:
    """How often the relay publishes an event nobody acknowledges before it gives up."""
    elapsed, count = 0.0, 0
    while elapsed < give_up:
        elapsed += min(ack_timeout * 2 ** min(count, 32), ack_max)
        count += 1
    return count


def _delivery(names: Sequence[str], bill: datetime, acknowledged: bool, settings: Any) -> dict:
    """The outbox record's relay and delivery fields as the relay and the acknowledgements
    leave them: delivered, or (not acknowledged by the last consumer) given up."""
    published = bill + ACK_DELAY / 3
    consumers = [
        ConsumerDelivery(
            service_name=name,
            status=ConsumerStatus.RECEIVED,
            received_at=published + ACK_DELAY * (i + 1),
        )
        for i, name in enumerate(names)
    ]
    if not acknowledged and consumers:
        consumers[-1] = ConsumerDelivery(service_name=names[-1])
    # `version` counts the record's updates: each publish, acknowledgement and status change.
    acks = sum(c.status is ConsumerStatus.RECEIVED for c in consumers)
    status, changes = DeliveryStatus.PUBLISHED, 0
    for heard in range(1, acks + 1):
        waiting = [ConsumerDelivery(service_name=c.service_name) for c in consumers[heard:]]
        wanted = overall_status(status, consumers[:heard] + waiting)
        changes, status = changes + (wanted is not status), wanted
    fields: dict[str, Any] = {
        "relay_status": RelayStatus.PUBLISHED,
        "attempts": 0,
        "next_attempt_at": bill,
        "lease_owner": None,
        "lease_until": None,
        "last_error": None,
        "consumers": consumers,
        "recheck_at": None,
        "updated_at": None,
        "updated_by": None,
    }
    if acknowledged:
        heard_last = max((c.received_at for c in consumers if c.received_at), default=published)
        return fields | {
            "published_at": published,
            "publish_count": 1,
            "status": status,
            "gave_up": False,
            "version": 1 + acks + changes,
            "last_updated_at": heard_last,
        }
    publishes = _publishes_until(
        settings.outbox_give_up_seconds,
        settings.outbox_ack_timeout_seconds,
        settings.outbox_ack_timeout_max_seconds,
    )
    given_up = bill + timedelta(seconds=settings.outbox_give_up_seconds)
    return fields | {
        "published_at": given_up - timedelta(seconds=settings.outbox_ack_timeout_max_seconds),
        "publish_count": publishes,
        "status": DeliveryStatus.FAILED,
        "gave_up": True,
        "version": publishes + acks + changes + 1,
        "last_updated_at": given_up,
    }


def _same_shape(kind: str, copy: dict[str, Any], template: dict[str, Any]) -> None:
    wanted, got = set(template) - {"_id"}, set(copy) - {"_id"}
    if wanted != got:
        raise AssertionError(f"seeded {kind} differs from the cart's: {sorted(wanted ^ got)}")


class _Copier:
    """Copies of one real bill, with the numbers, dates, ids and texts of earlier sales."""

    def __init__(self, cart: SimpleNamespace, tranlog: dict, record: dict) -> None:
        self.cart = cart
        self.templates = (tranlog, record)
        self.tranlog = cart.tranlog_type.model_validate(tranlog)
        self.record = OutboxRecord.model_validate(record)
        self.consumers = [c.service_name for c in self.record.consumers]
        self.checked = False

    def sale(
        self, till: Till, numbers: tuple[int, int], bill: datetime, acknowledged: bool
    ) -> tuple[dict, dict]:
        transaction_no, receipt_sequence = numbers
        created = bill.astimezone(UTC)
        tran = self.tranlog.model_copy(
            update={
                "terminal_no": till.terminal_no,
                "terminal_id": till.terminal_id,
                "transaction_no": transaction_no,
                "receipt_no": self.cart.receipt_no(receipt_sequence),
                "business_date": bill.strftime("%Y%m%d"),
                "generate_date_time": bill.isoformat(),
                "source_id": f"cart:{uuid.uuid4()}",
                "event_id": str(uuid.uuid4()),
                "sales": self.tranlog.sales
                | {"reference_date_time": (bill - SALE_DURATION).isoformat()},
                "receipt_text": "",
                "journal_text": "",
                "created_at": created,
                "created_by": f"terminal:{till.terminal_id}",
            },
            deep=True,
        )
        # As the cart does: the receipt is rendered from the payload before the texts are set.
        tran.receipt_text, tran.journal_text = self.cart.renderer.render(tran.payload())
        keys = {
            name: getattr(tran, name) if name in TRANLOG_KEYS else value
            for name, value in self.record.keys.items()
        }
        record = self.record.model_copy(
            update={
                "event_id": tran.event_id,
                "payload": tran.payload(),
                "keys": keys,
                "created_at": created,
                "created_by": tran.created_by,
                **_delivery(self.consumers, created, acknowledged, self.cart.settings),
            },
            deep=True,
        )
        # The outbox's `_id` is the event id, as `Outbox.add` writes it.
        raw = tran.to_mongo(), {"_id": tran.event_id, **record.to_mongo()}
        if not self.checked:
            _same_shape("tranlog", raw[0], self.templates[0])
            _same_shape("outbox record", raw[1], self.templates[1])
            self.checked = True
        return raw


async def _template(context: BenchContext, shop: Shop, items: Sequence[str]) -> str:
    """One real sale on a spare till (kept out of `shop.tills`: the timed loop never sells on
    it); returns its cart id."""
    number = max(till.terminal_no for till in shop.tills) + 1
    till = await add_till(context.client, shop, number)
    shop.tills.remove(till)
    await open_till(context.client, shop, till)
    sale = await Register(context.client, shop, till).sale(*((code, 1) for code in items))
    return sale["cartId"]


async def _listed(context: BenchContext, shop: Shop, business_date: str, expected: int) -> None:
    """The oldest seeded day through the cart's own list endpoint: proof the copies read back
    as the cart's documents (a field it cannot load would answer 500)."""
    register = Register(context.client, shop, shop.tills[0])
    response = await context.client.get(
        register.transactions_url(),
        params={"business_date": business_date, "limit": 5, **shop.tills[0].params},
        headers=shop.tills[0].headers,
    )
    body = response.json() if response.status_code == 200 else {}
    total = (body.get("metadata") or {}).get("total")
    if total != expected or len(body.get("data") or ()) != min(5, expected):
        raise AssertionError(f"seeded history not listed: {response.status_code} {total}")


async def _insert(db: AsyncDatabase, collection: str, documents: Iterator[dict]) -> None:
    batch: list[dict] = []
    for document in documents:
        batch.append(document)
        if len(batch) == BATCH:
            await db[collection].insert_many(batch, ordered=False)
            batch = []
    if batch:
        await db[collection].insert_many(batch, ordered=False)


async def seed_history(
    context: BenchContext, shop: Shop, items: Sequence[str], count: int
) -> Seeded:
    """`count` earlier sales spread over the shop's tills, with their outbox records."""
    if count <= 0:
        return Seeded(0)
    started = time.perf_counter()
    cart_id = await _template(context, shop, items)
    cart = _cart(context.stack.mongo_uri_for("cart"))
    mongo = Mongo(cart.settings)
    try:
        db, commons = mongo.tenant_db(shop.tenant_id), mongo.commons_db()
        tranlog = await db[cart.tranlogs].find_one({"source_id": f"cart:{cart_id}"})
        record = await commons[OUTBOX_COLLECTION].find_one({"event_id": tranlog["event_id"]})
        counter = await db[cart.counters].find_one({"terminal_id": tranlog["terminal_id"]})
        if tranlog["receipt_no"] != cart.receipt_no(counter["count_dic"][cart.receipt_seq]):
            raise AssertionError("the cart numbers receipts differently: update history.py")
        copier = _Copier(cart, tranlog, record)
        zone = ZoneInfo(cart.settings.timezone)
        today = datetime.strptime(tranlog["business_date"], "%Y%m%d").date()
        # Only what is older than the relay's give-up delay can have been given up.
        given_up_before = datetime.now(UTC) - timedelta(
            seconds=cart.settings.outbox_give_up_seconds
        )
        every = round(1 / UNACKNOWLEDGED_SHARE)
        unacknowledged, inserted = 0, 0.0
        seeded_days: list[str] = []  # of the first till, to list its oldest day afterwards
        for till, share in zip(shop.tills, _share(count, len(shop.tills)), strict=True):
            if not share:
                continue
            # Numbers the till's counter hands out next (1.. on a till that never sold).
            raw = await db[cart.counters].find_one({"terminal_id": till.terminal_id}) or {}
            done = raw.get("count_dic", {})
            tno, rno = done.get(cart.transaction_seq, 0), done.get(cart.receipt_seq, 0)
            moments = _moments(share, today, zone)
            seeded_days = seeded_days or [bill.strftime("%Y%m%d") for bill in moments]
            sales = []
            for n, bill in enumerate(moments, start=1):
                acknowledged = n % every != every // 2 or bill >= given_up_before
                unacknowledged += not acknowledged
                sales.append(copier.sale(till, (tno + n, rno + n), bill, acknowledged))
            inserting = time.perf_counter()
            await _insert(db, cart.tranlogs, (tran for tran, _ in sales))
            await _insert(commons, OUTBOX_COLLECTION, (rec for _, rec in sales))
            inserted += time.perf_counter() - inserting
            last, first = sales[-1][0]["created_at"], sales[0][0]["created_at"]
            await db[cart.counters].update_one(
                {"terminal_id": till.terminal_id},
                {
                    "$inc": {
                        f"count_dic.{cart.transaction_seq}": share,
                        f"count_dic.{cart.receipt_seq}": share,
                    },
                    "$set": {"last_used_at": last, "updated_at": last},
                    "$setOnInsert": {"created_at": first},
                },
                upsert=True,
            )
        total = await commons[OUTBOX_COLLECTION].estimated_document_count()
    finally:
        await mongo.close()
    await _listed(context, shop, seeded_days[0], seeded_days.count(seeded_days[0]))
    seeded = Seeded(count, unacknowledged, total, time.perf_counter() - started, inserted)
    print(
        f"history: {count} sales and outbox records over {len(shop.tills)} till(s) "
        f"in {seeded.seconds:.1f} s ({inserted:.1f} s inserting)",
        file=sys.stderr,
        flush=True,
    )
    return seeded
