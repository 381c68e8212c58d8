"""Event ingestion through the real local sidecar: the raw log and its journal entry, once per
log whatever the redelivery, and the `received` acknowledgement back to the publisher."""

from __future__ import annotations

import asyncio
import uuid
from decimal import Decimal

import pytest

from kugelpos.testkit.testing import assert_error, assert_ok

TRAN, CASH, OPENCLOSE = "tranlog_report", "cashlog_report", "opencloselog_report"


@pytest.mark.parametrize(
    ("topic", "raw", "builder"),
    [
        (TRAN, "log_tran", "tran"),
        (CASH, "log_cash_in_out", "cash"),
        (OPENCLOSE, "log_open_close", "open_close"),
    ],
)
async def test_one_entry_when_the_same_event_arrives_five_times_at_once(
    book, logs, publish, acked, topic, raw, builder
):
    store = f"C{builder[:2].upper()}"
    log = getattr(logs, builder)(book.tenant_id, store)
    await asyncio.gather(*(publish(topic, log) for _ in range(5)))
    found = await acked(log["event_id"], 5)  # every delivery was answered
    assert {a["status"] for a in found} == {"received"}
    assert len(await book.entries(store_code=store)) == 1
    stored = await book.db[raw].find({"store_code": store}, {"_id": False}).to_list()
    assert len(stored) == 1
    assert "event_id" not in stored[0] and "event_type" not in stored[0]
    assert await book.db["processed_events"].count_documents({"event_id": log["event_id"]}) == 1


async def test_entries_map_each_log_as_the_spec_says(book, logs, publish, acked):
    store = "MAP"
    sale = logs.tran(book.tenant_id, store, no=1, sales={"total_amount_with_tax": 1234.56})
    cancelled = logs.tran(book.tenant_id, store, no=2, sales={"is_cancelled": True})
    anonymous = logs.tran(book.tenant_id, store, no=3, user=None, staff=None)
    del anonymous["user"], anonymous["staff"]
    void = logs.tran(book.tenant_id, store, no=4, transaction_type=201)
    cash_in = logs.cash(book.tenant_id, store, amount=0.1)
    cash_out = logs.cash(book.tenant_id, store, amount=-300)
    cash_zero = logs.cash(book.tenant_id, store, amount=0)
    opened = logs.open_close(book.tenant_id, store, operation="open")
    closed = logs.open_close(
        book.tenant_id, store, operation="close", generate_date_time="2026-12-01T22:00:00+09:00"
    )
    for topic, log in [
        (TRAN, sale),
        (TRAN, cancelled),
        (TRAN, anonymous),
        (TRAN, void),
        (CASH, cash_in),
        (CASH, cash_out),
        (CASH, cash_zero),
        (OPENCLOSE, opened),
        (OPENCLOSE, closed),
    ]:
        await publish(topic, log)
    for log in (sale, cancelled, anonymous, void, cash_in, cash_out, cash_zero, opened, closed):
        await acked(log["event_id"])
    by_time = {e["generate_date_time"]: e for e in await book.entries(store_code=store)}
    assert len(by_time) == 9
    entry = by_time[sale["generate_date_time"]]
    assert entry["transaction_type"] == 101 and entry["transaction_no"] == 1
    assert Decimal(repr(entry["amount"])) == Decimal("1234.56") and entry["quantity"] == 2
    assert entry["receipt_no"] == 1001 and entry["staff_id"] == "S001"
    assert entry["user_id"] == "U1" and entry["journal_text"] == "sale 1\n"
    assert entry["shard_key"] == f"{book.tenant_id}_{store}_1_20261201"
    assert by_time[cancelled["generate_date_time"]]["transaction_type"] == -101
    nobody = by_time[anonymous["generate_date_time"]]
    assert nobody["staff_id"] is None and nobody["user_id"] is None
    assert by_time[void["generate_date_time"]]["transaction_type"] == 201
    assert by_time[cash_in["generate_date_time"]]["transaction_type"] == 401
    assert Decimal(repr(by_time[cash_in["generate_date_time"]]["amount"])) == Decimal("0.1")
    out = by_time[cash_out["generate_date_time"]]
    assert out["transaction_type"] == 402 and out["amount"] == -300 and out["quantity"] == 0
    assert by_time[cash_zero["generate_date_time"]]["transaction_type"] == 402
    assert by_time[opened["generate_date_time"]]["transaction_type"] == 301
    assert by_time[closed["generate_date_time"]]["transaction_type"] == 302
    raw = await book.db["log_tran"].find_one({"store_code": store, "transaction_no": 1})
    assert raw["sales"]["total_amount_with_tax"] == 1234.56
    assert raw["line_items"] == sale["line_items"]


async def test_same_log_under_a_new_event_id_is_a_duplicate(book, logs, publish, acked):
    store = "DUP"
    log = logs.cash(book.tenant_id, store, amount=700)
    await publish(CASH, log)
    await acked(log["event_id"])
    again = log | {"event_id": "republished-" + log["event_id"]}
    await publish(CASH, again)
    # The duplicate is acknowledged too: a lost first ack heals.
    assert (await acked(again["event_id"]))[0]["status"] == "received"
    assert len(await book.entries(store_code=store)) == 1
    assert await book.db["log_cash_in_out"].count_documents({"store_code": store}) == 1


async def test_an_unusable_payload_is_dropped_with_a_failed_ack(book, logs, publish, acked):
    store = "BAD"
    log = logs.tran(book.tenant_id, store, sales={"total_amount_with_tax": "lots"})
    await publish(TRAN, log)
    found = await acked(log["event_id"])
    assert found[0]["status"] == "failed"
    assert await book.entries(store_code=store) == []
    assert await book.db["log_tran"].count_documents({"store_code": store}) == 0


async def test_health_reports_its_dependencies(http):
    r = await http.get("/health")
    assert r.status_code == 200, r.text
    assert {"mongodb", "dapr_sidecar", "redis"} <= set(r.json()["checks"])


async def test_subscriptions_and_app_token(http):
    r = await http.get("/dapr/subscribe")
    routes = {s["topic"]: s["route"] for s in r.json()}
    assert routes == {
        TRAN: "/api/v1/tranlog",
        CASH: "/api/v1/cashlog",
        OPENCLOSE: "/api/v1/opencloselog",
        # Terminal notices (pubsub-broadcast): cached credential approvals are dropped.
        "terminal_changed": "/events/terminal_changed",
    }
    # Only the sidecar (with the app API token) may deliver.
    r = await http.post("/api/v1/tranlog", json={"data": {}})
    assert r.status_code == 401
    assert r.json()["success"] is False


async def test_welcome(http):
    assert assert_ok is not None
    r = await http.get("/")
    assert r.json() == {"message": "Welcome to Kugel-POS Journal API. supoorted version: v1"}


async def test_another_log_under_a_received_number_is_refused_both_ways(book, logs, publish, acked):
    """Issue 21 (consumer side): a log whose natural key (store, terminal, number) was
    received already with other content is refused, never taken for a duplicate: 409 on the
    direct intake, a rejected event on the topic (a failed acknowledgement naming the first)."""
    store = "CONFLICT"
    real = logs.tran(book.tenant_id, store, terminal=2, no=5)
    assert_ok(await book.post_tran(real), 201)
    forged = real | {"transaction_type": 102, "event_id": str(uuid.uuid4())}
    before = await book.snapshot()
    assert_error(await book.post_tran(forged), 409, "410106")
    await publish(TRAN, forged)
    (ack,) = await acked(forged["event_id"])
    assert ack["status"] == "failed" and ack["final"] is True
    assert "received already" in ack["message"]
    assert await book.snapshot() == before
    # The same log again, posted or published under another id: a harmless duplicate.
    assert_ok(await book.post_tran(real), 201)
    again = real | {"event_id": str(uuid.uuid4())}
    await publish(TRAN, again)
    assert (await acked(again["event_id"]))[0]["status"] == "received"
    entries = await book.entries(store_code=store)
    assert [(e["transaction_no"], e["transaction_type"]) for e in entries] == [(5, 101)]
