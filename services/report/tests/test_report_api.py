"""The report service on the embedded stack: events published through the real sidecar land
in raw logs and aggregates; reports answer from the aggregates; daily verification; errors."""

from __future__ import annotations

import asyncio
import uuid

from kugelpos.report import samples
from kugelpos.testkit.testing import assert_error, assert_ok

TOPIC = {"tran": "tranlog_report", "cash": "cashlog_report", "openclose": "opencloselog_report"}
DAY = samples.DATE


async def publish_all(publish, pairs):
    for kind, log in pairs:
        await publish(TOPIC[kind], log)


async def count_in(book, collection: str, **filter_) -> int:
    return await book.db[collection].count_documents(filter_)


async def test_worked_example_through_events(book, publish, wait):
    pairs = samples.worked_example(book.tenant_id)
    await publish_all(publish, pairs)

    async def all_in():
        return await count_in(book, "processed_events") >= len(pairs)

    await wait(all_in)
    data = await book.data("S1", 1, report_scope="flash", report_type="sales", business_date=DAY)
    assert data["salesNet"] == {"amount": 3000, "quantity": 2, "count": 1}
    assert data["salesGross"]["amount"] == 4700
    assert data["cash"]["differenceAmount"] == -50
    assert "純売上" in data["journalText"] and "( 速報 )" in data["journalText"]
    assert "<PrintData>" in data["receiptText"]
    store = await book.data("S1", report_scope="flash", report_type="sales", business_date=DAY)
    assert store["terminalNo"] is None and store["salesNet"]["amount"] == 3000
    # the day was closed with every announced log: daily is allowed
    daily = await book.data("S1", 1, report_scope="daily", report_type="sales", business_date=DAY)
    assert "( 日報 )" in daily["journalText"]
    info = await book.db["info_daily"].find_one({"terminal_no": 1, "business_date": DAY})
    assert info["verified"] is True
    # a range (every type, sales included) and the payment report's v1 shape
    ranged = await book.data(
        "S1", report_scope="daily", report_type="sales",
        business_date_from="20261130", business_date_to="20261202",
    )  # fmt: skip
    assert ranged["salesNet"]["amount"] == 3000 and ranged["businessDate"] is None
    payment = await book.data("S1", report_scope="flash", report_type="payment", business_date=DAY)
    assert payment["total"] == {"count": 2, "amount": 3300}
    # rebuilding from the raw logs gives the same report
    r = await book.http.post(
        f"/api/v1/tenants/{book.tenant_id}/reports/rebuild", headers=book.admin
    )
    assert assert_ok(r)["data"]["logs"] == len(pairs)
    again = await book.data("S1", 1, report_scope="flash", report_type="sales", business_date=DAY)
    assert {k: v for k, v in again.items() if "Text" not in k} == {
        k: v for k, v in data.items() if "Text" not in k
    }
    csv = await book.report("S1", 1, report_scope="flash", report_type="category",
                            business_date=DAY, format="csv")  # fmt: skip
    assert csv.status_code == 200 and csv.text.startswith("categoryCode,categoryName")


async def test_daily_refused_until_all_logs_arrived(book, publish, wait):
    date = "20261205"
    t = book.tenant_id
    await publish(
        "opencloselog_report", samples.open_close(t, "open", terminal=7, business_date=date)
    )
    sale1 = samples.tran(t, 1, terminal=7, business_date=date)
    await publish("tranlog_report", sale1)
    close = samples.open_close(
        t, "close", terminal=7, business_date=date, physical=1100.0,
        cart_transaction_count=2, cart_transaction_last_no=2, cash_in_out_count=0,
    )  # fmt: skip
    await publish("opencloselog_report", close)

    async def closed():
        return await count_in(book, "log_open_close", terminal_no=7, operation="close")

    await wait(closed)
    params = dict(report_scope="daily", report_type="sales", business_date=date)
    refused = await book.report("S1", 7, **params)
    assert_error(refused, 403, "412101")
    store_refused = await book.report("S1", **params)
    assert_error(store_refused, 403, "412101")
    info = await book.db["info_daily"].find_one({"terminal_no": 7, "business_date": date})
    assert info["verified"] is False and "412104" in info["verified_message"]
    # flash is always allowed, and says which closed session still misses sales
    flash = assert_ok(await book.report("S1", 7, **{**params, "report_scope": "flash"}))["data"]
    assert flash["incompleteSessions"] == [
        {"terminalNo": 7, "businessDate": date, "openCounter": 1,
         "reason": "transaction logs 1 of 2 received (412104)"}
    ]  # fmt: skip
    await publish("tranlog_report", samples.tran(t, 2, terminal=7, business_date=date))

    async def allowed():
        r = await book.report("S1", 7, **params)
        return r if r.status_code == 200 else None

    data = (await wait(allowed)).json()["data"]
    assert data["salesNet"]["count"] == 2
    flash = assert_ok(await book.report("S1", 7, **{**params, "report_scope": "flash"}))["data"]
    assert flash["incompleteSessions"] == []
    # upserted on its natural key, not accumulated
    assert await count_in(book, "info_daily", terminal_no=7, business_date=date) == 1


async def test_open_terminal_blocks_and_never_opened_does_not(book, publish, wait):
    date = "20261206"
    t = book.tenant_id
    await publish(
        "opencloselog_report", samples.open_close(t, "open", terminal=8, business_date=date)
    )

    async def opened():
        return await count_in(book, "report_sessions", terminal_no=8, business_date=date)

    await wait(opened)
    params = dict(report_scope="daily", report_type="sales", business_date=date)
    assert_error(await book.report("S1", 8, **params), 403, "412101")
    # terminal 9 never opened that day: allowed, with a trace
    assert_ok(await book.report("S1", 9, **params))
    info = await book.db["info_daily"].find_one({"terminal_no": 9, "business_date": date})
    assert info["verified"] is True and "not opened" in info["verified_message"]


async def test_five_concurrent_deliveries_count_once(book, publish, wait):
    date = "20261207"
    log = samples.tran(book.tenant_id, 1, terminal=3, business_date=date, with_tax=770.0)
    await asyncio.gather(*(publish("tranlog_report", dict(log)) for _ in range(5)))
    # and once more under another event id (same natural key), and directly
    await publish("tranlog_report", {**log, "event_id": str(uuid.uuid4())})
    assert_ok(await book.post_tran(log), 201)

    async def seen():
        return await count_in(book, "log_tran", terminal_no=3, business_date=date)

    await wait(seen)
    await asyncio.sleep(1.0)
    data = await book.data("S1", 3, report_scope="flash", report_type="sales", business_date=date)
    assert data["salesGross"] == {"amount": 770, "quantity": 1, "count": 1}
    assert await count_in(book, "log_tran", terminal_no=3, business_date=date) == 1


async def test_bad_requests(book, other_book):
    base = dict(report_scope="flash", report_type="sales")
    assert_error(await book.report("S1", **base), 400)  # no date
    r = await book.report("S1", **base, business_date=DAY, business_date_from=DAY)
    assert_error(r, 400)  # a date and half a range
    r = await book.report("S1", **base, business_date_from="20261202", business_date_to="20261201")
    assert_error(r, 400)  # from > to
    assert_error(await book.report("S1", **base, business_date="2026-12-01"), 400)
    r = await book.report("S1", report_scope="flash", report_type="nope", business_date=DAY)
    assert_error(r, 404, "412001")
    r = await book.report("S1", report_scope="weekly", report_type="sales", business_date=DAY)
    assert_error(r, 400, "412005")
    r = await book.report("S1", **base, business_date=DAY, open_counter="one")
    assert 400 <= r.status_code < 500 and r.json()["success"] is False
    r = await book.report("S1", **base, business_date=DAY, headers=other_book.admin)
    assert 400 <= r.status_code < 500 and r.json()["success"] is False
    r = await book.http.get(
        f"{book.store_path('S1')}/reports", params={**base, "business_date": DAY}
    )
    assert r.status_code == 401


async def test_subscriptions_and_root(book):
    r = await book.http.get("/dapr/subscribe")
    routes = sorted(s["route"] for s in r.json())
    # The three log topics, and the terminal notices that drop cached credential approvals.
    assert routes == [
        "/api/v1/cashlog",
        "/api/v1/opencloselog",
        "/api/v1/tranlog",
        "/events/terminal_changed",
    ]
    assert (await book.http.get("/")).json()["message"].startswith("Welcome to Kugel-POS Report")


async def test_tenant_setup_refuses_a_plain_user_and_a_terminal(book):
    """Regression (access matrix, issue 12): any user of the tenant could run set-up; it needs
    the admin or manager role (or a service token), and a till never may."""
    mine = {"tenantId": book.tenant_id}
    for headers in (book.clerk, await book.till()):
        assert_error(await book.http.post("/api/v1/tenants", json=mine, headers=headers), 403)
    assert_ok(await book.http.post("/api/v1/tenants", json=mine, headers=book.service()), 201)


async def test_counters_beyond_mongodb_integers_are_a_422(book):
    """Regression (schemathesis, issue 12): an open counter above what MongoDB stores reached
    the query and failed the report (500, OverflowError)."""
    huge = 2**96
    common = {"report_scope": "flash", "report_type": "sales", "business_date": "20260101"}
    for extra in ({"open_counter": huge}, {"business_counter": huge}, {"page": huge}):
        assert_error(await book.report("S1", **common, **extra), 422)
        assert_error(await book.report("S1", 1, **common, **extra), 422)


async def test_another_log_under_a_received_number_is_refused_both_ways(book, logs, publish, acked):
    """Issue 21 (consumer side): a forged return with the number of a real sale is refused:
    409 412008 on the direct intake, a rejected event on the topic; the report counts the sale
    once and nothing else."""
    store = "CONF"
    real = logs.tran(book.tenant_id, store, terminal=3, no=8)
    assert_ok(await book.post_tran(real), 201)
    forged = real | {"transaction_type": 102, "event_id": str(uuid.uuid4())}
    before = await book.snapshot()
    assert_error(await book.post_tran(forged), 409, "412008")
    await publish("tranlog_report", forged)
    (ack,) = await acked(forged["event_id"])
    assert ack["status"] == "failed" and ack["final"] is True
    assert await book.snapshot() == before
    assert_ok(await book.post_tran(real), 201)  # the same log again: a duplicate
    assert await book.snapshot() == before
