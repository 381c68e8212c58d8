"""Card expiry and breakage (issue 26): per-tenant settings, a card unused for longer expires
with its balance written off once, a card with an open hold or used recently does not, and
the daily run is made once by one of two replicas."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from kugelpos.common.clock import utcnow
from kugelpos.common.db.mongo import Mongo
from kugelpos.devstack.stack import Stack
from kugelpos.stored_value.config import StoredValueSettings
from kugelpos.stored_value.expiry.scheduler import ExpiryScheduler
from kugelpos.stored_value.expiry.service import ExpiryService
from kugelpos.testkit.testing import assert_ok

from .conftest import Book, balance_becomes, sale


async def loaded(book: Book, publish, amount: int, kind: str = "gift") -> str:
    headers = book.cart if kind == "credit" else None
    card = (await book.issue(kind=kind, headers=headers))[0]["cardNo"]
    load = await book.new_load(card, amount, kind="refund" if kind == "credit" else "load")
    if kind == "credit":
        log = sale(book.tenant_id, payments=[{"card_load_id": load, "amount": amount}])
    else:
        log = sale(book.tenant_id, loads=[load])
    await publish("tranlog_report", log)
    await balance_becomes(book, card, amount)
    return card


async def unused_since(book: Book, card_no: str, days: int) -> None:
    """The card was last used `days` ago (the test's clock: its last activity moved back)."""
    stamp = utcnow() - timedelta(days=days)
    await book.db["cards"].update_one({"card_no": card_no}, {"$set": {"last_activity_at": stamp}})


async def test_settings_and_who_may_set_them(book: Book) -> None:
    url = f"{book.base}/card-settings"
    assert assert_ok(await book.http.get(url, headers=book.admin))["data"] == {
        "giftExpiryDays": None,
        "creditExpiryDays": None,
    }
    body = {"giftExpiryDays": 365, "creditExpiryDays": None}
    for who in (book.clerk, await book.till("S1", 1), book.cart):
        assert (await book.http.put(url, json=body, headers=who)).status_code == 403
    for bad in ({"giftExpiryDays": 0}, {"giftExpiryDays": -1}, {"giftExpiryDays": 1.5}):
        assert (await book.http.put(url, json=bad, headers=book.admin)).status_code == 422
    assert assert_ok(await book.http.put(url, json=body, headers=book.admin))["data"] == body
    assert assert_ok(await book.http.get(url, headers=book.admin))["data"] == body


async def test_unused_cards_expire_once_and_their_balance_is_written_off(
    book: Book, other_book: Book, publish
) -> None:
    stale, held, recent = [await loaded(other_book, publish, n) for n in (4000, 3000, 2000)]
    credit = await loaded(other_book, publish, 1500, kind="credit")
    assert_ok(await other_book.hold(held, 1000), 201)
    for card in (stale, held, credit):
        await unused_since(other_book, card, 40)
    await unused_since(other_book, recent, 10)
    settings = {"giftExpiryDays": 30, "creditExpiryDays": None}  # store credit never expires
    url = f"{other_book.base}/card-settings"
    assert_ok(await other_book.http.put(url, json=settings, headers=other_book.admin))
    run = f"{other_book.base}/expiry/run"
    assert (await other_book.http.post(run, headers=other_book.clerk)).status_code == 403
    done = assert_ok(await other_book.http.post(run, headers=other_book.admin))["data"]
    assert done == {"expiredCards": 1, "breakage": 4000}
    card = assert_ok(await other_book.card(stale))["data"]
    assert (card["status"], card["balance"]) == ("expired", 0)
    ledger = await other_book.ledger(stale)
    assert ledger[-1]["kind"] == "expiry" and ledger[-1]["change"] == -4000
    assert sum(e["change"] for e in ledger) == 0
    for kept in (held, recent, credit):
        assert assert_ok(await other_book.card(kept))["data"]["status"] == "active"
    # Again: nothing more; an expired card takes no hold and no load.
    again = assert_ok(await other_book.http.post(run, headers=other_book.admin))["data"]
    assert again == {"expiredCards": 0, "breakage": 0}
    r = await other_book.hold(stale, 1)
    assert r.status_code == 409 and r.json()["userError"]["code"] == "416002"
    r = await other_book.register_load(stale, 100)
    assert r.status_code == 409 and r.json()["userError"]["code"] == "416002"


def two_replicas(book: Book, stack: Stack) -> tuple[ExpiryScheduler, ExpiryScheduler]:
    """Two schedulers as two replicas hold them (each its own owner), on the service's own
    database: they race on the same run documents the processes would."""
    settings = StoredValueSettings(
        environment="development",
        mongodb_uri=stack.mongo_uri_for("stored-value"),
        expiry_run_hour=0,
    )
    prefix = book.db_name[: -len(book.tenant_id) - 1]
    mongo = Mongo(settings, prefix=prefix)
    service = ExpiryService(mongo, max_balance=settings.max_balance)
    return ExpiryScheduler(mongo, service, settings), ExpiryScheduler(mongo, service, settings)


async def test_the_daily_run_is_made_once_by_one_of_two_replicas(
    book: Book, stack: Stack, publish
) -> None:
    card = await loaded(book, publish, 700)
    await unused_since(book, card, 400)
    url = f"{book.base}/card-settings"
    assert_ok(await book.http.put(url, json={"giftExpiryDays": 365}, headers=book.admin))
    a, b = two_replicas(book, stack)
    now = utcnow()
    # Yesterday's due time: the session stack's own scheduler only ever claims today's.
    due = a.due(now) - timedelta(days=1)
    # Both claim the day's run at once: one runs it.
    assert sorted(
        await asyncio.gather(a.run(book.tenant_id, due, now), b.run(book.tenant_id, due, now))
    ) == [False, True]
    runs = await book.db["expiry_runs"].find({}, {"_id": False}).to_list()
    assert len(runs) == 1 and runs[0]["status"] == "done" and runs[0]["breakage"] == 700
    assert assert_ok(await book.card(card))["data"]["status"] == "expired"
    assert len([e for e in await book.ledger(card) if e["kind"] == "expiry"]) == 1
    # Done: neither runs it again.
    assert not await a.run(book.tenant_id, due, now) and not await b.run(book.tenant_id, due, now)
    # A replica that died mid-run: the other takes the run over once its lease has expired.
    earlier = due - timedelta(days=1)  # another day's run, left running by a dead replica
    key = f"expiry_{book.tenant_id}:{earlier.astimezone(a._zone).date().isoformat()}"
    lapsed = now - timedelta(seconds=1)
    await book.db["expiry_runs"].insert_one(
        {"job_key": key, "tenant_id": book.tenant_id, "due_at": earlier, "owner": "dead",
         "lease_until": lapsed, "status": "running", "created_at": lapsed}
    )  # fmt: skip
    assert await b.run(book.tenant_id, earlier, now)
    taken = await book.db["expiry_runs"].find_one({"job_key": key})
    assert taken["owner"] == b.owner and taken["status"] == "done"
    await a._mongo.close()
