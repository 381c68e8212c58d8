"""Earlier sales written straight into the cart's MongoDB, shaped exactly as the cart writes them.

The one module of the cart meant for tools outside the service: the checkout benchmark
(`python -m kugelpos.bench --only cart.checkout`) gives each store a history with it, because a
cost that grows with history stays invisible on a store holding a few hundred sales, and
seeding through the HTTP API costs ~50 ms a sale on the embedded engine. The service itself
never imports it; its tests do (services/cart/tests/test_cart_seeding.py), so a change of the
cart's documents that this module does not follow fails there, not in a benchmark run.

- one real bill made through the API is the template (`template_cart_id`); every earlier sale
  is a copy of its tranlog and outbox record through the cart's own models (`TranlogDocument`
  and its `payload()`, the configured receipt plugin for the receipt and journal texts,
  `OutboxRecord`, `ConsumerDelivery`, `overall_status`) with new numbers, dates, ids and texts;
  the first copy's fields are checked against the template's;
- numbers: each till's history takes the numbers its counter would hand out next (1..k on a
  fresh till) and the counter is advanced past them with the `$inc` a bill makes, so later
  sales go on from there and never collide; receipt numbers follow the cart's sequence and
  range (checked against the template's);
- dates: earlier business days (SALES_PER_TILL_DAY per till and day, 09:00-21:00 in the
  cart's time zone), so today's session and its summary hold only today's sales;
- outbox (one collection in the cart's commons database, shared by all tenants): one record
  per tranlog in the state the relay and the acknowledgements leave it, published and
  delivered to every consumer; UNACKNOWLEDGED_SHARE of the sales older than the relay's
  give-up delay were never acknowledged by one consumer and are given up. Nothing of it is due,
  so the relay leaves the history alone, as it would in a store.
"""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from pymongo.asynchronous.database import AsyncDatabase

from kugelpos.cart.config import CartSettings
from kugelpos.cart.plugins.registry import load_plugins
from kugelpos.cart.transactions import repository
from kugelpos.cart.transactions.documents import TranlogDocument
from kugelpos.cart.transactions.tranlog import receipt_number, receipt_range
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


@dataclass(frozen=True)
class Till:
    """A terminal of the store whose history is seeded."""

    terminal_id: str
    terminal_no: int


@dataclass(frozen=True)
class SeededHistory:
    """What `seed_history` wrote."""

    sales: int
    unacknowledged: int  # given up with one consumer silent
    outbox_total: int  # the cart's whole outbox afterwards: every tenant seeded or sold so far
    insert_seconds: float  # of the time taken, in insert_many (the engine's share)
    # The oldest business day of the first till with a share, and how many sales it holds
    # there: what a caller reads back through the cart's list endpoint to prove the copies load.
    oldest_day: str | None
    oldest_day_sales: int


class _Cart:
    """The cart's settings and what its documents are built with."""

    def __init__(self, settings: CartSettings) -> None:
        self.settings = settings
        self.renderer = load_plugins(settings.plugins_file).receipt()
        self._range = receipt_range(
            {}, settings.receipt_no_start_value, settings.receipt_no_end_value
        )

    def receipt_no(self, sequence: int) -> int:
        return receipt_number(sequence, *self._range)


def _share(count: int, parts: int) -> list[int]:
    return [count // parts + (i < count % parts) for i in range(parts)]


def _moments(count: int, today: date, zone: ZoneInfo) -> list[datetime]:
    """`count` bill times over the business days before `today`, oldest first, at uneven
    intervals with microseconds (as `app_now().isoformat()` writes them)."""
    days = -(-count // SALES_PER_TILL_DAY)
    step = BUSINESS_HOURS / SALES_PER_TILL_DAY
    rng = random.Random(count)  # noqa: S311 (spread of sale times, not a secret)
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


def _delivery(
    names: Sequence[str], bill: datetime, acknowledged: bool, settings: CartSettings
) -> dict:
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

    def __init__(self, cart: _Cart, tranlog: dict, record: dict) -> None:
        self.cart = cart
        self.templates = (tranlog, record)
        self.tranlog = TranlogDocument.model_validate(tranlog)
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
    *,
    mongodb_uri: str,
    tenant_id: str,
    template_cart_id: str,
    tills: Sequence[Till],
    count: int,
    db_name_prefix: str | None = None,
) -> SeededHistory:
    """`count` earlier sales spread over `tills`, with their outbox records, copied from the
    billed cart `template_cart_id` of the same tenant (made through the API beforehand).

    `db_name_prefix`: the DB_NAME_PREFIX the cart runs with, if not its default."""
    if count <= 0 or not tills:
        return SeededHistory(0, 0, 0, 0.0, None, 0)
    options: dict[str, Any] = {"environment": "development", "mongodb_uri": mongodb_uri}
    if db_name_prefix is not None:
        options["db_name_prefix"] = db_name_prefix
    cart = _Cart(CartSettings(**options))
    tranlogs = repository.TranlogRepository.collection_name
    counters = repository.CounterRepository.collection_name
    mongo = Mongo(cart.settings)
    try:
        db, commons = mongo.tenant_db(tenant_id), mongo.commons_db()
        tranlog = await db[tranlogs].find_one({"source_id": f"cart:{template_cart_id}"})
        if tranlog is None:
            raise LookupError(f"no tranlog of cart {template_cart_id} in tenant {tenant_id}")
        record = await commons[OUTBOX_COLLECTION].find_one({"event_id": tranlog["event_id"]})
        counter = await db[counters].find_one({"terminal_id": tranlog["terminal_id"]})
        if counter is None or record is None:
            raise LookupError(f"the bill of cart {template_cart_id} has no counter or event")
        if tranlog["receipt_no"] != cart.receipt_no(counter["count_dic"][repository.RECEIPT]):
            raise AssertionError("the cart numbers receipts differently: update seeding.py")
        copier = _Copier(cart, tranlog, record)
        zone = ZoneInfo(cart.settings.timezone)
        today = datetime.strptime(tranlog["business_date"], "%Y%m%d").date()
        # Only what is older than the relay's give-up delay can have been given up.
        given_up_before = datetime.now(UTC) - timedelta(
            seconds=cart.settings.outbox_give_up_seconds
        )
        every = round(1 / UNACKNOWLEDGED_SHARE)
        unacknowledged, inserted = 0, 0.0
        seeded_days: list[str] = []  # of the first till, to name its oldest day
        for till, share in zip(tills, _share(count, len(tills)), strict=True):
            if not share:
                continue
            # Numbers the till's counter hands out next (1.. on a till that never sold).
            raw = await db[counters].find_one({"terminal_id": till.terminal_id}) or {}
            done = raw.get("count_dic", {})
            tno = done.get(repository.TRANSACTION, 0)
            rno = done.get(repository.RECEIPT, 0)
            moments = _moments(share, today, zone)
            seeded_days = seeded_days or [bill.strftime("%Y%m%d") for bill in moments]
            sales = []
            for n, bill in enumerate(moments, start=1):
                acknowledged = n % every != every // 2 or bill >= given_up_before
                unacknowledged += not acknowledged
                sales.append(copier.sale(till, (tno + n, rno + n), bill, acknowledged))
            inserting = time.perf_counter()
            await _insert(db, tranlogs, (tran for tran, _ in sales))
            await _insert(commons, OUTBOX_COLLECTION, (rec for _, rec in sales))
            inserted += time.perf_counter() - inserting
            last, first = sales[-1][0]["created_at"], sales[0][0]["created_at"]
            await db[counters].update_one(
                {"terminal_id": till.terminal_id},
                {
                    "$inc": {
                        f"count_dic.{repository.TRANSACTION}": share,
                        f"count_dic.{repository.RECEIPT}": share,
                    },
                    "$set": {"last_used_at": last, "updated_at": last},
                    "$setOnInsert": {"created_at": first},
                },
                upsert=True,
            )
        total = await commons[OUTBOX_COLLECTION].estimated_document_count()
    finally:
        await mongo.close()
    oldest = seeded_days[0] if seeded_days else None
    return SeededHistory(
        sales=count,
        unacknowledged=unacknowledged,
        outbox_total=total,
        insert_seconds=inserted,
        oldest_day=oldest,
        oldest_day_sales=seeded_days.count(oldest) if oldest else 0,
    )
