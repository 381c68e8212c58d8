"""The liability report: what the tenant owes per store (the store that sold the card) and
day, held amounts included, with the day's loads, redemptions and voids."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from kugelpos.testkit.consumers import eventually
from kugelpos.testkit.testing import assert_ok

from .conftest import Book, balance_becomes, sale


async def liability(book: Book, first: str, last: str, headers=None, **params):
    return await book.http.get(
        f"{book.base}/liability",
        params={"from": first, "to": last, **params},
        headers=headers or book.admin,
    )


async def test_what_is_owed_per_store_and_day(book: Book, publish) -> None:
    a, b = (card["cardNo"] for card in await book.issue(2))
    load_a = await book.new_load(a, 5000, store="S1")
    load_b = await book.new_load(b, 3000, store="S2")
    await publish("tranlog_report", sale(book.tenant_id, loads=[load_a, load_b]))
    await balance_becomes(book, a, 5000)
    await balance_becomes(book, b, 3000)
    # Card a pays 1200 (captured) and holds 500 more (still owed: not spent yet).
    paid = assert_ok(await book.hold(a, 1200), 201)["data"]["holdId"]
    await publish(
        "tranlog_report", sale(book.tenant_id, payments=[{"hold_id": paid, "amount": 1200}])
    )

    async def captured() -> bool:
        return (await book.get_hold(paid))["state"] == "captured"

    await eventually(captured)
    assert_ok(await book.hold(a, 500), 201)
    today = datetime.now(ZoneInfo("Asia/Tokyo")).date()
    yesterday = today - timedelta(days=1)
    report = assert_ok(await liability(book, str(yesterday), str(today)))["data"]
    assert report["outstandingNow"] == 3800 + 3000
    before, now = report["days"]
    assert before == {"date": str(yesterday), "outstanding": 0, "stores": []}
    by_store = {s["storeCode"]: s for s in now["stores"]}
    assert now["outstanding"] == 6800
    assert by_store["S1"] == {
        "storeCode": "S1",
        "outstanding": 3800,
        "loaded": 5000,
        "redeemed": 1200,
        "unloaded": 0,
        "expired": 0,
    }
    assert (by_store["S2"]["outstanding"], by_store["S2"]["loaded"]) == (3000, 3000)
    one = assert_ok(await liability(book, str(today), str(today), storeCode="S2"))["data"]
    assert one["outstandingNow"] == 3000 and [s["storeCode"] for s in one["days"][0]["stores"]] == [
        "S2"
    ]


async def test_bad_ranges_and_callers_are_refused(book: Book) -> None:
    for first, last in (("2026-12-07", "2026-12-01"), ("2026-01-01", "2026-12-31"), ("x", "y")):
        r = await liability(book, first, last)
        assert r.status_code == 422, r.text
    for who in (book.clerk, await book.till("S1", 1), book.cart):
        assert (await liability(book, "2026-12-01", "2026-12-02", headers=who)).status_code == 403
