"""Money on and off cards: loads by the sale that sells a card, holds by the cart's payment,
captures by the bill's log, releases, refunds and unloads by returns and voids; each once."""

from __future__ import annotations

import asyncio
import uuid

from kugelpos.testkit.consumers import eventually
from kugelpos.testkit.testing import assert_ok

from .conftest import Book, balance_becomes, sale


def error_code(response) -> str:
    return response.json()["userError"]["code"]


async def loaded(book: Book, publish, amount: int, *, with_pin: bool = False) -> dict:
    card = (await book.issue(with_pin=with_pin))[0]
    load = await book.new_load(card["cardNo"], amount)
    await publish("tranlog_report", sale(book.tenant_id, loads=[load]))
    await balance_becomes(book, card["cardNo"], amount)
    return card


async def ledger_sums_to_balance(book: Book, card_no: str) -> int:
    entries = await book.ledger(card_no)
    got = assert_ok(await book.card(card_no))["data"]
    assert sum(e["change"] for e in entries) == got["balance"] >= 0
    assert entries[-1]["balanceAfter"] == got["balance"]
    return got["balance"]


async def test_a_sale_activates_and_loads_once_even_delivered_twice(book: Book, publish) -> None:
    card = (await book.issue())[0]["cardNo"]
    load = await book.new_load(card, 5000)
    assert (await book.get_load(load))["state"] == "pending"
    assert await book.balance(card) == 0  # registered: nothing moves before the bill
    log = sale(book.tenant_id, loads=[load])
    await publish("tranlog_report", log)
    await publish("tranlog_report", log)  # the same event again
    await balance_becomes(book, card, 5000)
    await asyncio.sleep(0.5)
    got = assert_ok(await book.card(card))["data"]
    assert got["status"] == "active" and got["balance"] == 5000
    assert [e["kind"] for e in await book.ledger(card)] == ["activation", "load"]
    # The ledger keeps the transaction, never the whole number in an answer.
    entry = (await book.ledger(card))[-1]
    assert entry["reference"].endswith(f":{log['transaction_no']}")
    assert entry["cardNo"].startswith("*")


async def test_hold_capture_release_and_idempotency(book: Book, publish) -> None:
    card = (await loaded(book, publish, 5000))["cardNo"]
    hold = assert_ok(await book.hold(card, 2000, holdId="cart1-1"), 201)["data"]
    assert hold["state"] == "open" and hold["amount"] == 2000
    got = assert_ok(await book.card(card))["data"]
    assert (got["balance"], got["heldAmount"]) == (3000, 2000)
    # The same hold id again is the same hold; with another amount it is refused.
    assert assert_ok(await book.hold(card, 2000, holdId="cart1-1"), 201)["data"] == hold
    r = await book.hold(card, 1500, holdId="cart1-1")
    assert r.status_code == 409 and error_code(r) == "416103"
    captured = assert_ok(await book.close("cart1-1", "capture"))["data"]
    assert captured["state"] == "captured"
    assert assert_ok(await book.close("cart1-1", "capture"))["data"]["state"] == "captured"
    r = await book.close("cart1-1", "release")
    assert r.status_code == 409 and error_code(r) == "416102"
    got = assert_ok(await book.card(card))["data"]
    assert (got["balance"], got["heldAmount"]) == (3000, 0)
    # A second hold released comes back whole, twice asked or not.
    assert_ok(await book.hold(card, 1000, holdId="cart1-2"), 201)
    assert assert_ok(await book.close("cart1-2", "release"))["data"]["state"] == "released"
    assert assert_ok(await book.close("cart1-2", "release"))["data"]["state"] == "released"
    r = await book.close("cart1-2", "capture")
    assert r.status_code == 409 and error_code(r) == "416102"
    assert await ledger_sums_to_balance(book, card) == 3000
    kinds = [e["kind"] for e in await book.ledger(card)]
    assert kinds == ["activation", "load", "hold", "capture", "hold", "release"]


async def test_not_enough_balance_says_the_balance(book: Book, publish) -> None:
    card = (await loaded(book, publish, 1200))["cardNo"]
    r = await book.hold(card, 1500)
    assert r.status_code == 400 and error_code(r) == "416003"
    assert "1200" in r.json()["message"]
    inactive = (await book.issue())[0]["cardNo"]
    r = await book.hold(inactive, 1)
    assert r.status_code == 409 and error_code(r) == "416002"


async def test_ten_concurrent_holds_never_exceed_the_balance(book: Book, publish) -> None:
    card = (await loaded(book, publish, 10_000))["cardNo"]
    answers = await asyncio.gather(*(book.hold(card, 3000) for _ in range(10)))
    placed = [r for r in answers if r.status_code == 201]
    refused = [r for r in answers if r.status_code != 201]
    assert len(placed) == 3, [r.text for r in answers]
    assert all(r.status_code == 400 and error_code(r) == "416003" for r in refused)
    assert await ledger_sums_to_balance(book, card) == 1000


async def test_the_bill_captures_once_and_a_cancelled_sale_releases(book: Book, publish) -> None:
    card = (await loaded(book, publish, 8000))["cardNo"]
    paid = f"h-{uuid.uuid4().hex[:8]}"
    assert_ok(await book.hold(card, 3000, holdId=paid), 201)
    bill = sale(
        book.tenant_id,
        payments=[{"card_no": "************0000", "hold_id": paid, "amount": 3000}],
    )
    await publish("tranlog_report", bill)
    await publish("tranlog_report", bill)

    async def captured() -> bool:
        return (await book.get_hold(paid))["state"] == "captured"

    await eventually(captured)
    dropped = f"h-{uuid.uuid4().hex[:8]}"
    assert_ok(await book.hold(card, 2000, holdId=dropped), 201)
    cancelled = sale(
        book.tenant_id,
        payments=[{"card_no": "************0000", "hold_id": dropped, "amount": 2000}],
        cancelled=True,
    )
    await publish("tranlog_report", cancelled)

    async def released() -> bool:
        return (await book.get_hold(dropped))["state"] == "released"

    await eventually(released)
    await asyncio.sleep(0.5)
    assert await ledger_sums_to_balance(book, card) == 5000
    kinds = [e["kind"] for e in await book.ledger(card)]
    assert kinds.count("capture") == 1 and kinds.count("release") == 1


async def test_a_void_unloads_the_card_and_refunds_payments(book: Book, publish) -> None:
    """A sale that sold a card (4000) and was paid by another (2500), then voided: the sold
    card is unloaded, the paying card refunded; the void's log repeated changes nothing."""
    card = (await book.issue())[0]["cardNo"]
    load = await book.new_load(card, 4000)
    payer = (await loaded(book, publish, 6000))["cardNo"]
    hold_id = f"h-{uuid.uuid4().hex[:8]}"
    assert_ok(await book.hold(payer, 2500, holdId=hold_id), 201)
    paid = [{"hold_id": hold_id, "amount": 2500, "card_no": "************0000"}]
    bill = sale(book.tenant_id, loads=[load], payments=paid)
    await publish("tranlog_report", bill)
    await balance_becomes(book, card, 4000)
    await eventually(lambda: _state_is(book, hold_id, "captured"))
    assert (await book.get_load(load))["reversible"] is True
    void = sale(book.tenant_id, loads=[load], payments=paid, transaction_type=201)
    await publish("tranlog_report", void)
    await publish("tranlog_report", void)
    await balance_becomes(book, card, 0)
    await balance_becomes(book, payer, 6000)
    await asyncio.sleep(0.5)
    assert [e["kind"] for e in await book.ledger(card)] == ["activation", "load", "unload"]
    assert [e["kind"] for e in await book.ledger(payer)][-2:] == ["capture", "refund"]
    assert (await book.get_load(load))["state"] == "reversed"
    assert await ledger_sums_to_balance(book, payer) == 6000


async def test_a_void_before_its_sale_nets_to_nothing(book: Book, publish) -> None:
    """Logs may arrive in any order: a void's before its sale's leaves the card as it was."""
    card = (await book.issue())[0]["cardNo"]
    payer = (await loaded(book, publish, 3000))["cardNo"]
    load = await book.new_load(card, 1500)
    hold_id = f"h-{uuid.uuid4().hex[:8]}"
    assert_ok(await book.hold(payer, 1000, holdId=hold_id), 201)
    paid = [{"hold_id": hold_id, "amount": 1000}]
    no = 424242
    void = sale(book.tenant_id, loads=[load], payments=paid, transaction_type=201, no=no)
    await publish("tranlog_report", void)
    await eventually(lambda: _load_state_is(book, load, "reversed"))
    await publish("tranlog_report", sale(book.tenant_id, loads=[load], payments=paid, no=no))
    await balance_becomes(book, payer, 3000)
    await asyncio.sleep(1.0)
    assert await book.balance(card) == 0
    assert await ledger_sums_to_balance(book, payer) == 3000
    assert [e["kind"] for e in await book.ledger(payer)][-3:] == ["hold", "capture", "refund"]


async def test_a_spent_card_is_not_reversible(book: Book, publish) -> None:
    card = (await book.issue())[0]["cardNo"]
    load = await book.new_load(card, 2000)
    await publish("tranlog_report", sale(book.tenant_id, loads=[load]))
    await balance_becomes(book, card, 2000)
    assert (await book.get_load(load))["reversible"] is True
    hold = assert_ok(await book.hold(card, 500), 201)["data"]["holdId"]
    assert (await book.get_load(load))["reversible"] is False
    assert_ok(await book.close(hold, "release"))
    # Released: the money is back, but the card was used; the cart refuses the void.
    assert (await book.get_load(load))["reversible"] is False


async def test_a_return_refunds_onto_a_new_credit_card(book: Book, publish) -> None:
    credit = (await book.issue(kind="credit", headers=book.cart))[0]["cardNo"]
    load = await book.new_load(credit, 1800, kind="refund")
    refund = sale(
        book.tenant_id,
        payments=[{"card_load_id": load, "amount": 1800, "card_no": "************0000"}],
        transaction_type=102,
    )
    await publish("tranlog_report", refund)
    await balance_becomes(book, credit, 1800)
    got = assert_ok(await book.card(credit))["data"]
    assert got["kind"] == "credit" and got["status"] == "active"
    assert [e["kind"] for e in await book.ledger(credit)] == ["activation", "refund"]


async def test_bad_loads_write_nothing(book: Book, publish, other_book: Book) -> None:
    card = (await loaded(book, publish, 100))["cardNo"]
    before = await book.snapshot()
    for body in ({"amount": 0}, {"amount": -5}, {"amount": 1.5}, {"amount": 5, "kind": "gift"}):
        r = await book.http.post(f"{book.base}/cards/{card}/loads", json=body, headers=book.cart)
        assert r.status_code == 422, (body, r.text)
    r = await book.register_load(card, 10**9)
    assert r.status_code == 400 and error_code(r) == "416005"
    for who in (await book.till("S1", 1), book.clerk, book.admin, other_book.cart):
        r = await book.register_load(card, 100, headers=who)
        assert r.status_code == 403, r.text
    assert await book.snapshot() == before
    # A load id again is the same load; with another amount, refused.
    first = assert_ok(await book.register_load(card, 100, loadId="L-same"), 201)["data"]
    assert assert_ok(await book.register_load(card, 100, loadId="L-same"), 201)["data"] == first
    r = await book.register_load(card, 200, loadId="L-same")
    assert r.status_code == 409 and error_code(r) == "416202"


async def _load_state_is(book: Book, load_id: str, state: str) -> bool:
    return (await book.get_load(load_id))["state"] == state


async def test_bad_holds_write_nothing(book: Book, publish, other_book: Book) -> None:
    card = await loaded(book, publish, 5000, with_pin=True)
    no = card["cardNo"]
    before = await book.snapshot()
    cases = [
        ({"amount": -100}, 422),
        ({"amount": 0}, 422),
        ({"amount": 10.5}, 422),
        ({"amount": "lots"}, 422),
        ({"amount": 100, "holdId": "bad id with spaces"}, 422),
    ]
    for body, status in cases:
        r = await book.http.post(
            f"{book.base}/cards/{no}/holds", json={"pin": card["pin"], **body}, headers=book.cart
        )
        assert r.status_code == status, (body, r.text)
    wrong_pin = "000000" if card["pin"] != "000000" else "111111"
    r = await book.hold(no, 100, pin=wrong_pin)
    assert r.status_code == 404 and error_code(r) == "416001"
    # A till, a clerk, the back office, another tenant's cart: no holds (money moves only
    # through the cart).
    for who in (await book.till("S1", 1), book.clerk, book.admin, other_book.cart):
        r = await book.hold(no, 100, headers=who, pin=card["pin"])
        assert r.status_code == 403, r.text
    assert await book.snapshot() == before
    assert_ok(await book.hold(no, 100, pin=card["pin"]), 201)


async def _state_is(book: Book, hold_id: str, state: str) -> bool:
    return (await book.get_hold(hold_id))["state"] == state
