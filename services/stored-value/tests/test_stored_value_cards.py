"""Cards over HTTP: issued in batches (whole numbers shown once), looked up masked, PINs and
the lookup throttle, block/unblock, who may do what, bad input writing nothing."""

from __future__ import annotations

from kugelpos.testkit.testing import assert_ok

from .conftest import Book, balance_becomes, sale


def error_code(response) -> str:
    return response.json()["userError"]["code"]


async def test_a_batch_is_issued_inactive_with_whole_numbers_once(book: Book) -> None:
    cards = await book.issue(3, with_pin=True)
    assert len(cards) == 3 and len({c["cardNo"] for c in cards}) == 3
    for c in cards:
        assert c["kind"] == "gift" and c["status"] == "inactive"
        assert len(c["cardNo"]) == 16 and len(c["pin"]) == 6
    got = assert_ok(await book.card(cards[0]["cardNo"]))["data"]
    assert got["cardNo"] == "*" * 12 + cards[0]["cardNo"][-4:]
    assert got["balance"] == 0 and got["status"] == "inactive" and got["hasPin"] is True
    listed = assert_ok(await book.http.get(f"{book.base}/cards", headers=book.admin))
    assert all("*" in c["cardNo"] for c in listed["data"]) and listed["metadata"]["total"] >= 3
    # Nothing stored answers the PIN back, hashed or not.
    stored = await book.db["cards"].find_one({"card_no": cards[0]["cardNo"]})
    assert stored["pin_hash"] != cards[0]["pin"] and stored["pin_hash"].startswith("$2")


async def test_a_till_needs_the_pin_and_unknown_and_wrong_pins_look_alike(book: Book) -> None:
    card = (await book.issue(with_pin=True))[0]
    till = await book.till("S1", 1)
    right = await book.card(card["cardNo"], headers=till, pin=card["pin"])
    assert assert_ok(right)["data"]["status"] == "inactive"
    wrong_pin = "000000" if card["pin"] != "000000" else "111111"
    wrong = await book.card(card["cardNo"], headers=till, pin=wrong_pin)
    no_pin = await book.card(card["cardNo"], headers=till)
    unknown_no = (await book.issue())[0]["cardNo"]
    await book.db["cards"].delete_one({"card_no": unknown_no})
    unknown = await book.card(unknown_no, headers=till, pin=wrong_pin)
    for r in (wrong, no_pin, unknown):
        assert r.status_code == 404 and error_code(r) == "416001"
        assert r.json()["userError"]["message"] == wrong.json()["userError"]["message"]
    # A mistyped number is refused before any lookup.
    typo = card["cardNo"][:-1] + str((int(card["cardNo"][-1]) + 1) % 10)
    r = await book.card(typo, headers=till)
    assert r.status_code == 400 and error_code(r) == "416004"


async def test_guessing_numbers_from_a_till_is_throttled(book: Book) -> None:
    till = await book.till("S1", 7)
    card = (await book.issue())[0]
    await book.db["cards"].delete_one({"card_no": card["cardNo"]})
    statuses = [(await book.card(card["cardNo"], headers=till)).status_code for _ in range(7)]
    assert statuses[:5] == [404] * 5 and 429 in statuses[5:]
    # Another till of the tenant is not slowed by this one's guesses.
    other = await book.till("S1", 8)
    assert (await book.card(card["cardNo"], headers=other)).status_code == 404


async def test_block_and_unblock_by_a_manager_not_a_clerk_nor_a_till(book: Book, publish) -> None:
    card = (await book.issue())[0]["cardNo"]
    load = await book.new_load(card, 3000)
    await publish("tranlog_report", sale(book.tenant_id, loads=[load]))
    await balance_becomes(book, card, 3000)
    for who in (book.clerk, await book.till("S1", 1), book.cart):
        r = await book.http.post(f"{book.base}/cards/{card}/block", headers=who)
        assert r.status_code == 403, r.text
    blocked = await book.http.post(f"{book.base}/cards/{card}/block", headers=book.admin)
    assert assert_ok(blocked)["data"]["status"] == "blocked"
    again = await book.http.post(f"{book.base}/cards/{card}/block", headers=book.admin)
    assert again.status_code == 409 and error_code(again) == "416006"
    # A blocked card holds nothing.
    r = await book.hold(card, 100)
    assert r.status_code == 409 and error_code(r) == "416002"
    unblocked = await book.http.post(f"{book.base}/cards/{card}/unblock", headers=book.admin)
    assert assert_ok(unblocked)["data"]["status"] == "active"
    kinds = [e["kind"] for e in await book.ledger(card)]
    assert kinds == ["activation", "load", "block", "unblock"]


async def test_who_may_issue(book: Book, other_book: Book) -> None:
    for who in (book.clerk, await book.till("S1", 1)):
        r = await book.http.post(
            f"{book.base}/cards", json={"kind": "gift", "count": 1}, headers=who
        )
        assert r.status_code == 403
    # The cart may issue one credit card (a refund to new store credit), no gift cards.
    assert (await book.issue(kind="credit", headers=book.cart))[0]["kind"] == "credit"
    for body in ({"kind": "gift", "count": 1}, {"kind": "credit", "count": 2}):
        r = await book.http.post(f"{book.base}/cards", json=body, headers=book.cart)
        assert r.status_code == 403
    # Another tenant's admin: refused, and cannot read this tenant's card either.
    card = (await book.issue())[0]["cardNo"]
    r = await book.http.post(
        f"{book.base}/cards", json={"kind": "gift", "count": 1}, headers=other_book.admin
    )
    assert r.status_code == 403
    assert (await book.card(card, headers=other_book.admin)).status_code == 403


async def test_bad_issue_requests_write_nothing(book: Book) -> None:
    before = await book.snapshot()
    for body in (
        {"kind": "gift", "count": 0},
        {"kind": "gift", "count": -1},
        {"kind": "gift", "count": 1.5},
        {"kind": "voucher", "count": 1},
        {"count": 1},
        {"kind": "gift", "count": 20_000},
    ):
        r = await book.http.post(f"{book.base}/cards", json=body, headers=book.admin)
        assert 400 <= r.status_code < 500 and r.json()["success"] is False, body
        assert len(error_code(r)) == 6
    assert await book.snapshot() == before
