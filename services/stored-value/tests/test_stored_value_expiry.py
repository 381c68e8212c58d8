"""Card expiry and breakage (issue 26): per-tenant settings, a card unused for longer expires
with its balance written off once, a card with an open hold or used recently does not, and
the daily run is made once by one of two replicas."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import httpx
import pytest
from pymongo import AsyncMongoClient

from kugelpos.common.auth.tokens import TokenCodec
from kugelpos.common.clock import utcnow
from kugelpos.devstack.stack import Stack
from kugelpos.registry.services import service
from kugelpos.testkit.testing import assert_ok, new_tenant_id

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


@pytest.fixture(scope="module")
def replicated(stack_factory) -> Stack:
    own = stack_factory(
        services=(service("stored-value"),),
        # Due from midnight, looked for every 0.2 s by each replica.
        extra_env={"EXPIRY_POLL_SECONDS": "0.2", "EXPIRY_RUN_HOUR": "0"},
    )
    own.add_replica("stored-value")
    return own


async def test_the_daily_run_is_made_once_by_one_of_two_replicas(replicated: Stack) -> None:
    codec = TokenCodec(replicated.secret_key)
    tenant = new_tenant_id()
    admin = {
        "Authorization": "Bearer "
        + codec.issue_user_token(
            username="admin",
            tenant_id=tenant,
            is_superuser=True,
            roles=["admin"],
            lifetime=timedelta(hours=1),
        )
    }
    base = f"/api/v1/tenants/{tenant}"
    client = AsyncMongoClient(replicated.mongo_uri_for("stored-value"), tz_aware=True)
    db = client[replicated.db_name("stored-value", tenant)]
    async with httpx.AsyncClient(base_url=replicated.url("stored-value"), timeout=30) as http:
        assert_ok(await http.post("/api/v1/tenants", json={"tenantId": tenant}, headers=admin), 201)
        card = assert_ok(
            await http.post(f"{base}/cards", json={"kind": "gift", "count": 1}, headers=admin),
            201,
        )["data"][0]["cardNo"]
        # A card loaded 400 days ago (written as the ledger would have it), then the setting.
        stamp = utcnow() - timedelta(days=400)
        await db["cards"].update_one(
            {"card_no": card},
            {"$set": {"status": "active", "balance": 700, "last_activity_at": stamp}},
        )
        await db["card_ledger"].insert_one(
            {
                "tenant_id": tenant,
                "entry_id": "seed",
                "entry_key": "load:seed",
                "card_no": card,
                "kind": "load",
                "amount": 700,
                "change": 700,
                "balance_after": 700,
                "held_after": 0,
                "at": stamp,
            }
        )
        body = {"giftExpiryDays": 365}
        assert_ok(await http.put(f"{base}/card-settings", json=body, headers=admin))
        for _ in range(100):
            got = assert_ok(await http.get(f"{base}/cards/{card}", headers=admin))["data"]
            if got["status"] == "expired":
                break
            await asyncio.sleep(0.1)
        assert got["status"] == "expired"
        await asyncio.sleep(1.0)  # both replicas polled a few more times
        runs = await db["expiry_runs"].find({}, {"_id": False}).to_list()
        assert len(runs) == 1 and runs[0]["status"] == "done" and runs[0]["breakage"] == 700
        entries = await db["card_ledger"].find({"card_no": card, "kind": "expiry"}).to_list()
        assert len(entries) == 1
    await client.close()
