"""The store day under faults as a helper (`run_day`), shared by the fault suite
(tests/faults/test_store_day_under_faults.py, whose docstring tells the day: tills, returns,
gift cards sold and paid with, the back office's receipt and transfer, the poison event, how a
till finds out what a lost answer did, and every final check) and the same day with two
replicas of every service (tests/faults/test_store_day_replicas.py). `plan` is the suite's
fault plan; a caller passes its own (`spread` places faults at seeded sales); `table` prints
the fault table.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from pymongo import AsyncMongoClient

from kugelpos.devstack.pos import (
    CARD_PAYMENT,
    DEFAULT_ITEMS,
    DEFAULT_PAYMENTS,
    GIFT_CARD_ITEM,
    Register,
    Shop,
    Till,
    open_shop,
)
from kugelpos.devstack.stack import REDIS, SIDECAR, Stack, mongo_component
from kugelpos.registry.services import SERVICES, ServiceSpec

FAULT_ENV = {
    "BCRYPT_ROUNDS": "4",
    # Recovery in about a second, so a few minutes hold nine crashes.
    "BREAKER_RESET_SECONDS": "1",
    "OUTBOX_RETRY_MAX_SECONDS": "1",
    "OUTBOX_POLL_INTERVAL_SECONDS": "1",
    "OUTBOX_LEASE_SECONDS": "5",
    # Events whose stream entries died with Redis are republished after a few seconds.
    "OUTBOX_ACK_TIMEOUT_SECONDS": "5",
    "OUTBOX_ACK_TIMEOUT_MAX_SECONDS": "10",
    "IDEMPOTENCY_IN_FLIGHT_SECONDS": "5",
    # A handler error (the poison event) is tried three times, a second apart, then kept.
    "EVENT_RETRY_TRIES": "3",
    "EVENT_RETRY_BASE_SECONDS": "1",
    # Stored value: a hold left by a payment whose answer was lost (or a cart abandoned) is
    # released by the service within seconds, so the day can check every hold ends closed. A
    # bill whose log comes later than this still captures: the event path debits again.
    "HOLD_TTL_SECONDS": "15",
    "HOLD_EXPIRY_POLL_SECONDS": "1",
}
POISON_ITEM = "4906"  # sold once, by till 1; not one of ITEMS (whose stock is checked)
SIDECAR_OPTIONS = ("--redeliver-interval", "0.5", "--max-backoff", "2")
CONSUMERS = ("report", "journal", "stock")
TILLS = 3  # the fault suite's own day; run_day(tills=) for another
SALES_PER_TILL = 6
INITIAL_STOCK = 1000
STEP_DEADLINE = 90.0
CONVERGE_SECONDS = 90.0
# A return's handling (quote read, reason, claim, tranlog) takes longer than a bill's: the
# cart is killed at a random point within this many seconds of sending it.
RETURN_KILL_WITHIN = 0.25
# Stock is killed within this many seconds of the transfer's POST: before its transaction
# commits in some runs (found not shipped, sent again), after it in others (found shipped).
TRANSFER_KILL_WITHIN = 0.25
ITEMS = ("4901", "4902", "4903", "4904", "4905")
# Returns (issue 25): a manager approves blind returns; DAMAGED goes back to no shelf.
MANAGER = {"staffId": "M01", "pin": "9876"}
REASONS = {"CHANGED": True, "DAMAGED": False}  # reason code -> restock
# What each till takes back, one step after each sale from its third: "return"/"void" of its
# first sale (v1's body), "partial[:reason]" one unit of one line of its first or second sale
# (the object form), "blind:reason" a return without a receipt.
# The back office's inventory actions (issue 28): a delivery into the selling store, and a
# transfer from it to the second store, received in part, then completed one unit short.
RECEIPT = {
    "supplier": "ACME Foods",
    "reference": "PO-FAULT-DAY",
    "lines": [
        {"itemCode": "4901", "quantity": 40, "unitCost": 2},
        {"itemCode": "4903", "quantity": 25, "unitCost": 1.5},
    ],
}
TRANSFER = {"4902": 30, "4904": 20}  # item -> shipped
RECEIVES = (
    ({"4902": 18}, False),  # partly received
    ({"4902": 11, "4904": 20}, True),  # complete: one 4902 never arrived
)
# Gift cards (issue 26): the odd-numbered tills each sell one of the cards the admin issued
# at the start (their third sale carries the card's line, GIFT_LOAD on it), then pay part of
# later sales with it (CARD_SHARE of the time, always while a card fault waits for such a
# bill): up to CARD_PAY_MAX, at most half the sale, only while the card holds twice that (room
# for a hold a lost answer left open until it expires). The first of them also cancels a cart
# it paid by card.
GIFT_LOAD = 30000
CARD_SHARE = 0.6
CARD_PAY_MAX = 800
# "kill stored-value mid-capture": stored-value is killed within this many seconds of a card
# sale's bill answering, while the bill's log is on its way to capture the hold.
CAPTURE_KILL_WITHIN = 0.05
REFUNDS: dict[int, list[str]] = {
    1: ["partial:DAMAGED", "blind:CHANGED"],
    2: ["return", "partial"],
    3: ["void", "partial:CHANGED", "blind:DAMAGED"],
}


class SaleFailed(Exception):
    """The cart refused the sale for good (or lost it): the till starts it again."""


@dataclass
class Fault:
    name: str
    component: str
    wipe: bool = False  # restart from empty (Redis)
    mid_bill: bool = False  # killed while a bill is in flight
    mid_return: bool = False  # killed while an object-form return is in flight
    mid_transfer: bool = False  # killed right after the transfer's POST is sent
    mid_capture: bool = False  # killed right after a bill paid partly by gift card
    mid_hold: bool = False  # killed after a card payment was accepted, before the bill
    at_bill: int = 0  # injected once this many bills were attempted
    at_seconds: float = 0.0
    down_seconds: float = 0.0
    restart_seconds: float = 0.0
    # Restarted in the background: the next fault comes at its sale whether or not this one's
    # component is back (faults of different components overlap; the day ends once all are).
    overlap: bool = False


@dataclass
class Bill:
    """One completed transaction as the till learned it."""

    till: int
    kind: int  # 101 sale, 102 return, 201 void
    transaction_no: int
    total: float
    payments: dict[str, float]  # by payment name, as the report shows them
    tenders: list[tuple[str, float]]  # by payment code, as a refund repeats them
    lines: dict[str, int]
    answered_at: float
    # "200", "recovered" (answer lost, found recorded) or "replayed" (answer lost, a retry with
    # the same Idempotency-Key answered it)
    how: str
    fault: str = "-"
    line_nos: dict[int, tuple[str, int]] = field(default_factory=dict)  # lineNo -> item, qty
    reason: str | None = None  # a return's reason code
    restock: bool = True  # whether stock takes a return's units back
    note: str = ""  # what a return was, for the summary
    holds: list[str] = field(default_factory=list)  # its card payments' holds


@dataclass
class Day:
    stack: Stack
    shop: Shop
    client: httpx.AsyncClient
    rng: random.Random
    tills: int = TILLS
    sales_per_till: int = SALES_PER_TILL
    # The component the in-flight faults kill (mid-bill, mid-return, mid-transfer): the
    # fault's, e.g. "cart" or one replica of it ("cart.2").
    victim: str = ""
    # Each process's own root URL ("cart.2" -> http://...), when the tills reach services
    # through a front: the in-flight faults send their call straight to the process they
    # kill, so it dies with that call in flight (through the front it might be elsewhere).
    process_urls: dict[str, str] = field(default_factory=dict)

    def at_victim(self, url: str, service: str) -> str:
        """`url` (of `service`, as the tills reach it) sent to the victim process instead."""
        own = self.process_urls.get(self.victim)
        return url if own is None else url.replace(self.shop.urls[service], own, 1)

    started: float = field(default_factory=time.monotonic)
    bills: list[Bill] = field(default_factory=list)
    attempts: int = 0
    failures: list[tuple[int, str, str]] = field(default_factory=list)  # till, fault, reason
    current: str = "-"
    kill_in_bill: asyncio.Event = field(default_factory=asyncio.Event)
    bill_killed: asyncio.Event = field(default_factory=asyncio.Event)
    kill_in_return: asyncio.Event = field(default_factory=asyncio.Event)
    return_killed: asyncio.Event = field(default_factory=asyncio.Event)
    extra_returns: int = 0  # partial returns taken only to be a mid-return fault's victim
    kill_in_transfer: asyncio.Event = field(default_factory=asyncio.Event)
    transfer_killed: asyncio.Event = field(default_factory=asyncio.Event)
    second_store: str = ""
    inventory: list[str] = field(default_factory=list)  # the back office's actions, as done
    faults_done: asyncio.Event = field(default_factory=asyncio.Event)
    restarts: list[asyncio.Task[None]] = field(default_factory=list)  # overlapping faults'
    seen_in_journal: dict[tuple[int, int], float] = field(default_factory=dict)
    poison: Bill | None = None
    cancelled: list[tuple[int, int]] = field(default_factory=list)  # till, transaction no
    kill_in_capture: asyncio.Event = field(default_factory=asyncio.Event)
    capture_killed: asyncio.Event = field(default_factory=asyncio.Event)
    kill_in_hold: asyncio.Event = field(default_factory=asyncio.Event)
    hold_killed: asyncio.Event = field(default_factory=asyncio.Event)
    cards: dict[int, str] = field(default_factory=dict)  # till -> the gift card it sells
    card_cancel: str = ""  # how the cart paid by card and cancelled went
    # The mid-capture fault's bill: its holds, and when stored-value was killed (wall clock).
    capture_victim: tuple[list[str], datetime] | None = None

    def card_fault_waits(self) -> bool:
        return self.kill_in_capture.is_set() or self.kill_in_hold.is_set()

    progress: asyncio.Condition = field(default_factory=asyncio.Condition)

    def now(self) -> float:
        return time.monotonic() - self.started

    async def attempt(self) -> None:
        async with self.progress:
            self.attempts += 1
            self.progress.notify_all()

    async def attempted(self, count: int) -> None:
        async with self.progress:
            await self.progress.wait_for(lambda: self.attempts >= count)


def _data(r: httpx.Response) -> Any:
    return r.json()["data"]


def _sum(pairs: Iterable[tuple[str, float]]) -> dict[str, float]:
    total: dict[str, float] = defaultdict(float)
    for key, value in pairs:
        total[key] += value
    return dict(total)


class FaultTill:
    """One till: rings sales up step by step, finding out what happened when unsure."""

    def __init__(self, day: Day, till: Till) -> None:
        self.day = day
        self.till = till
        self.register = Register(day.client, day.shop, till)
        self.no = till.terminal_no

    async def _send(self, call: Callable[[], Awaitable[httpx.Response]]) -> httpx.Response | None:
        try:
            return await call()
        except httpx.TransportError:
            return None

    async def answered(
        self, call: Callable[[], Awaitable[httpx.Response]], *, ok: tuple[int, ...] = (200,)
    ) -> httpx.Response:
        """A call that changes nothing twice (reads, create): retried until it answers."""
        deadline = time.monotonic() + STEP_DEADLINE
        while True:
            r = await self._send(call)
            if r is not None and (r.status_code in ok or r.status_code < 500):
                return r
            assert time.monotonic() < deadline, f"till {self.no}: no answer ({r and r.text})"
            await asyncio.sleep(0.3)

    async def cart(self, cart_id: str) -> dict[str, Any] | None:
        r = await self.answered(lambda: self.register.get(cart_id))
        if r.status_code == 404:
            return None
        assert r.status_code == 200, r.text
        return _data(r)

    async def step(
        self,
        cart_id: str,
        call: Callable[[], Awaitable[httpx.Response]],
        done: Callable[[dict[str, Any]], bool],
    ) -> dict[str, Any]:
        deadline = time.monotonic() + STEP_DEADLINE
        while True:
            r = await self._send(call)
            if r is not None and r.status_code == 200:
                return _data(r)
            # No answer, a 5xx, or a 4xx after an earlier try that may have applied: the cart
            # tells whether the step took effect.
            cart = await self.cart(cart_id)
            if cart is None:
                raise SaleFailed(f"cart gone ({r.status_code if r else 'no answer'})")
            if done(cart):
                return cart
            if r is not None and 400 <= r.status_code < 500:
                raise SaleFailed(f"{r.status_code}: {r.text[:200]}")
            assert time.monotonic() < deadline, f"till {self.no}: step never went through"
            await asyncio.sleep(0.3)

    async def known_numbers(self) -> set[int]:
        known = {b.transaction_no for b in self.day.bills if b.till == self.no}
        return known | {no for till, no in self.day.cancelled if till == self.no}

    async def recorded_unknown(self, *, cancelled: bool = False) -> dict[str, Any] | None:
        """A transaction of this terminal the till never heard of: its lost answer
        (`cancelled`: a cancelled sale's too)."""
        params = self.till.params | {"limit": 1000}
        if cancelled:
            params["include_cancelled"] = "true"
        r = await self.answered(
            lambda: self.day.client.get(
                self.register.transactions_url(), params=params, headers=self.till.headers
            )
        )
        assert r.status_code == 200, r.text
        known = await self.known_numbers()
        unknown = [t for t in _data(r) if t["transactionNo"] not in known]
        assert len(unknown) <= 1, f"till {self.no}: several unknown transactions {unknown}"
        return unknown[0] if unknown else None

    def record(self, data: dict[str, Any], kind: int, how: str) -> Bill:
        bill = Bill(
            till=self.no,
            kind=kind,
            transaction_no=int(data["transactionNo"]),
            total=float(data["totalAmountWithTax"]),
            payments=_sum(
                (p["paymentName"], float(p["paymentAmount"])) for p in data.get("payments") or []
            ),
            tenders=[
                (p["paymentCode"], float(p["paymentAmount"])) for p in data.get("payments") or []
            ],
            lines={
                code: int(q)
                for code, q in _sum(
                    (line["itemCode"], line["quantity"])
                    for line in data.get("lineItems") or []
                    if not line.get("isCancelled")
                ).items()
            },
            answered_at=self.day.now(),
            how=how,
            fault=self.day.current,
            line_nos={
                int(line["lineNo"]): (line["itemCode"], int(line["quantity"]))
                for line in data.get("lineItems") or []
                if not line.get("isCancelled") and line.get("lineNo") is not None
            },
            holds=[p["holdId"] for p in data.get("payments") or [] if p.get("holdId")],
        )
        self.day.bills.append(bill)
        return bill

    async def bill(self, cart_id: str) -> httpx.Response | None:
        if not self.day.kill_in_bill.is_set():
            return await self._send(lambda: self.register.bill(cart_id))
        # This bill is the victim: the cart dies while it is being handled.
        self.day.kill_in_bill.clear()
        url = self.day.at_victim(f"{self.register.base}/{cart_id}/bill", "cart")
        task = asyncio.create_task(
            self._send(
                lambda: self.day.client.post(
                    url, params=self.till.params, headers=self.till.headers
                )
            )
        )
        await asyncio.sleep(self.day.rng.uniform(0.0, 0.04))
        await asyncio.to_thread(self.day.stack.kill_component, self.day.victim)
        self.day.bill_killed.set()
        return await task

    async def card_amount(self, card_no: str, want: int) -> int:
        """What the card pays of `want`: all of it if the card is active and holds twice that
        (the admin's read, as the till's balance check), else nothing."""
        url = self.day.shop.url(
            "stored-value", f"/api/v1/tenants/{self.day.shop.tenant_id}/cards/{card_no}"
        )
        r = await self.answered(lambda: self.day.client.get(url, headers=self.day.shop.admin))
        assert r.status_code == 200, r.text
        card = _data(r)
        return want if card["status"] == "active" and card["balance"] >= 2 * want else 0

    async def pay_and_kill(self, cart_id: str, body: list[dict[str, Any]]) -> None:
        await self.step(
            cart_id,
            lambda: self.register.post(f"/{cart_id}/payments", body),
            lambda c: c["balanceAmount"] == 0 and bool(c["payments"]),
        )
        if any(p["paymentCode"] == "21" for p in body) and self.day.kill_in_hold.is_set():
            # The card's hold is placed and the payment accepted: the cart dies before the
            # bill is sent; the till bills once it is back (the cart is in the state store).
            self.day.kill_in_hold.clear()
            await asyncio.to_thread(self.day.stack.kill_component, self.day.victim)
            self.day.hold_killed.set()

    async def billed(self, bill: Bill) -> Bill:
        if any(code == "21" for code, _ in bill.tenders) and self.day.kill_in_capture.is_set():
            # The bill's log is on its way to capture the card's hold: stored-value dies.
            self.day.kill_in_capture.clear()
            await asyncio.sleep(self.day.rng.uniform(0.0, CAPTURE_KILL_WITHIN))
            killed_at = datetime.now(UTC)
            await asyncio.to_thread(self.day.stack.kill_component, self.day.victim)
            self.day.capture_victim = (bill.holds, killed_at)
            self.day.capture_killed.set()
        return bill

    async def sale(
        self,
        lines: list[tuple[str, int]],
        split: bool,
        *,
        gift: str | None = None,
        card: tuple[str, int] | None = None,
    ) -> Bill | None:
        """One customer; None when the sale failed (the till then rings it up again).
        `gift`: a gift card sold with the sale (GIFT_LOAD on it); `card`: a gift card and
        what it should pay (at most half the sale, and only if it holds enough)."""
        await self.day.attempt()
        fault = self.day.current
        cart_id: str | None = None
        try:
            r = await self.answered(lambda: self.register.post("", {"transactionType": 101}))
            if r.status_code != 201:
                raise SaleFailed(f"create: {r.status_code} {r.text[:200]}")
            cart_id = _data(r)["cartId"]
            body: list[dict[str, Any]] = [{"itemCode": c, "quantity": q} for c, q in lines]
            if gift is not None:
                body.append(
                    {
                        "itemCode": GIFT_CARD_ITEM.code,
                        "quantity": 1,
                        "unitPrice": GIFT_LOAD,
                        "cardNo": gift,
                    }
                )
            await self.step(
                cart_id,
                lambda: self.register.post(f"/{cart_id}/lineItems", body),
                lambda c: len(c["lineItems"]) == len(body),
            )
            cart = await self.step(
                cart_id,
                lambda: self.register.subtotal(cart_id),
                lambda c: c["cartStatus"] == "Paying",
            )
            total = int(cart["totalAmountWithTax"])
            on_card = 0
            if card is not None:
                on_card = await self.card_amount(card[0], min(card[1], total // 2))
            if on_card:
                tenders = [("21", on_card), ("01", total - on_card)]
            elif split:
                tenders = [("11", total // 3), ("01", total - total // 3)]
            else:
                tenders = [("01", total)]
            await self.pay_and_kill(
                cart_id,
                [
                    {"paymentCode": code, "amount": amount}
                    | ({"detail": {"cardNo": card[0]}} if code == "21" and card else {})
                    for code, amount in tenders
                ],
            )
            deadline = time.monotonic() + STEP_DEADLINE
            while True:
                r = await self.bill(cart_id)
                if r is not None and r.status_code == 200:
                    return await self.billed(self.record(_data(r), 101, "200"))
                cart = await self.cart(cart_id)
                if cart is not None and cart["cartStatus"] == "Completed":
                    return await self.billed(self.record(cart, 101, "recovered"))
                if cart is None:
                    found = await self.recorded_unknown()
                    if found is not None:
                        bill = self.record(found, found["transactionType"], "recovered")
                        return await self.billed(bill)
                    raise SaleFailed(f"bill: cart gone ({r.status_code if r else 'no answer'})")
                if r is not None and 400 <= r.status_code < 500:
                    raise SaleFailed(f"bill: {r.status_code} {r.text[:200]}")
                assert time.monotonic() < deadline, f"till {self.no}: bill never went through"
                await asyncio.sleep(0.3)
        except SaleFailed as exc:
            self.day.failures.append((self.no, fault, str(exc)))
            if cart_id is not None:  # a sale abandoned half-way must not record anything
                assert await self.recorded_unknown() is None
            return None

    async def cancel_paid_by_card(self, card_no: str) -> bool:
        """A customer pays part by gift card, then changes their mind: the cart is cancelled
        and its log releases the hold. A lost cancel answer is found out as a bill's is; a
        cart abandoned half-way (False: the till tries again later) leaves its hold to expire."""
        fault = self.day.current
        cart_id: str | None = None
        try:
            r = await self.answered(lambda: self.register.post("", {"transactionType": 101}))
            if r.status_code != 201:
                raise SaleFailed(f"create: {r.status_code} {r.text[:200]}")
            cart_id = _data(r)["cartId"]
            await self.step(
                cart_id,
                lambda: self.register.add(cart_id, ("4901", 1)),
                lambda c: len(c["lineItems"]) == 1,
            )
            cart = await self.step(
                cart_id,
                lambda: self.register.subtotal(cart_id),
                lambda c: c["cartStatus"] == "Paying",
            )
            amount = int(cart["totalAmountWithTax"]) // 2
            body = [{"paymentCode": "21", "amount": amount, "detail": {"cardNo": card_no}}]
            await self.step(
                cart_id,
                lambda: self.register.post(f"/{cart_id}/payments", body),
                lambda c: bool(c["payments"]),
            )
            deadline = time.monotonic() + STEP_DEADLINE
            while True:
                r = await self._send(lambda: self.register.post(f"/{cart_id}/cancel"))
                if r is not None and r.status_code == 200:
                    number, how = _data(r)["transactionNo"], "200"
                    break
                cart = await self.cart(cart_id)
                if cart is not None and cart["cartStatus"] == "Cancelled":
                    number, how = cart["transactionNo"], "recovered"
                    break
                if cart is None:
                    found = await self.recorded_unknown(cancelled=True)
                    if found is None:
                        raise SaleFailed("cancel: cart gone")
                    number, how = found["transactionNo"], "recovered"
                    break
                if r is not None and 400 <= r.status_code < 500:
                    raise SaleFailed(f"cancel: {r.status_code} {r.text[:200]}")
                assert time.monotonic() < deadline, f"till {self.no}: cancel never went through"
                await asyncio.sleep(0.3)
            self.day.cancelled.append((self.no, int(number)))
            self.day.card_cancel = (
                f"cart paid {amount} by card ****{card_no[-4:]} then cancelled at till "
                f"{self.no} (#{number}, answer {how}, during {fault})"
            )
            return True
        except SaleFailed as exc:
            self.day.failures.append((self.no, fault, f"card cart not cancelled: {exc}"))
            return False

    async def refund(self, kind: int, original: Bill) -> Bill:
        """A return (102) or void (201) of one of this till's own sales."""
        path = "return" if kind == 102 else "void"
        url = self.register.transactions_url(f"/{original.transaction_no}/{path}")
        body = [{"paymentCode": code, "amount": amount} for code, amount in original.tenders]
        deadline = time.monotonic() + STEP_DEADLINE
        while True:
            r = await self._send(
                lambda: self.day.client.post(
                    url, params=self.till.params, headers=self.till.headers, json=body
                )
            )
            if r is not None and r.status_code == 200:
                return self.record(_data(r), kind, "200")
            found = await self.recorded_unknown()
            if found is not None:
                return self.record(found, kind, "recovered")
            assert r is None or r.status_code >= 500, r.text
            assert time.monotonic() < deadline, f"till {self.no}: {path} never went through"
            await asyncio.sleep(0.3)

    async def object_return(
        self, url: str, body: dict[str, Any], reason: str | None, original: Bill | None = None
    ) -> Bill:
        """An object-form return (partial or blind): quoted first (writes nothing), then taken
        with an Idempotency-Key; a lost answer is looked up as a sale's is."""
        r = await self.answered(lambda: self.day.client.post(f"{url}/quote", **self._req(body)))
        assert r.status_code == 200, r.text
        total = int(_data(r)["totalAmountWithTax"])
        body = body | {"payments": self.refund_tenders(original, total)}
        if reason is not None:
            body["reasonCode"] = reason
        kwargs = self._req(body)
        kwargs["headers"] = kwargs["headers"] | {"Idempotency-Key": f"r{random.getrandbits(64)}"}
        deadline = time.monotonic() + STEP_DEADLINE
        victim = self.day.kill_in_return.is_set()
        killed = ""
        self.day.kill_in_return.clear()
        while True:
            call = lambda: self.day.client.post(url, **kwargs)  # noqa: E731
            # The first try of the victim: the cart dies while the return is being handled.
            r = await (self._killed_meanwhile(call) if victim else self._send(call))
            if victim:
                victim = False
                killed = f"cart killed in flight, first try {r.status_code if r else 'unanswered'}"
                # Answered before the kill: the till drops the answer (as a dropped connection
                # would), so that every run recovers a return whose answer was lost.
                r = None if r is not None and r.status_code == 200 else r
            if r is not None and r.status_code == 200:
                # A retry answered with the first try's return: its answer was lost.
                replayed = r.headers.get("Idempotent-Replayed") == "true"
                bill = self.record(_data(r), 102, "replayed" if replayed else "200")
                break
            found = await self.recorded_unknown()
            if found is not None:
                bill = self.record(found, 102, "recovered")
                break
            # 409: the same key still in flight (a try the fault cut off); it ends or expires.
            assert r is None or r.status_code >= 500 or r.status_code == 409, r.text
            assert time.monotonic() < deadline, f"till {self.no}: return never went through"
            await asyncio.sleep(0.3)
        bill.reason = reason
        bill.restock = REASONS.get(reason or "", True)
        bill.note = killed
        return bill

    async def _killed_meanwhile(
        self, call: Callable[[], Awaitable[httpx.Response]]
    ) -> httpx.Response | None:
        task = asyncio.create_task(self._send(call))
        await asyncio.sleep(self.day.rng.uniform(0.0, RETURN_KILL_WITHIN))
        await asyncio.to_thread(self.day.stack.kill_component, self.day.victim)
        self.day.return_killed.set()
        return await task

    def _req(self, body: dict[str, Any]) -> dict[str, Any]:
        return {"params": self.till.params, "headers": self.till.headers, "json": body}

    def refund_tenders(self, original: Bill | None, total: int) -> list[dict[str, Any]]:
        if original is None:  # blind: cash, with the manager's approval
            return [{"paymentCode": "01", "amount": total}]
        # The sale's own tenders, cash first, each up to what it paid: no approval needed.
        paid = _sum(original.tenders)
        out = []
        for code in sorted(paid, key=lambda c: c != "01"):
            amount = min(total, int(paid[code]))
            if amount:
                out.append({"paymentCode": code, "amount": amount})
                total -= amount
        assert total == 0, original
        return out

    async def partial_return(self, original: Bill, reason: str | None, rng: random.Random) -> Bill:
        line_no = rng.choice(sorted(original.line_nos))
        url = self.register.transactions_url(f"/{original.transaction_no}/return")
        body = {"lines": [{"lineNo": line_no, "quantity": 1}]}
        bill = await self.object_return(url, body, reason, original)
        assert bill.lines == {original.line_nos[line_no][0]: 1}, bill
        bill.note = f"partial of #{original.transaction_no} line {line_no} x1 {bill.note}"
        return bill

    async def blind_return(self, reason: str, rng: random.Random) -> Bill:
        code = rng.choice(ITEMS)
        url = self.day.shop.url(
            "cart",
            f"/api/v1/tenants/{self.day.shop.tenant_id}/stores/{self.till.store_code}"
            f"/terminals/{self.no}/returns",
        )
        body = {"lines": [{"itemCode": code, "quantity": 1}], "approval": MANAGER}
        bill = await self.object_return(url, body, reason)
        assert bill.lines == {code: 1}, bill
        bill.note = f"blind {code} x1 {bill.note}"
        return bill

    async def terminal(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        url = self.day.shop.url("terminal", f"/api/v1/terminals/{self.till.terminal_id}{path}")
        r = await self.answered(
            lambda: self.day.client.post(url, headers=self.till.headers, json=body)
        )
        assert r.status_code == 200, f"{path}: {r.text}"
        return _data(r)


class BackOffice:
    """The shop's back office (its admin token): a delivery and a transfer during the day,
    each found out when its answer is lost rather than applied twice."""

    def __init__(self, day: Day) -> None:
        self.day = day
        shop = day.shop
        self.headers = shop.admin
        self.tenant = shop.url("stock", f"/api/v1/tenants/{shop.tenant_id}")
        self.transfers = f"{self.tenant}/stock/transfers"
        # Marks this day's transfer, to find it when the answer to its POST was lost.
        self.operator = f"BO-{random.getrandbits(32):08x}"
        self.transfer_id: str | None = None

    async def _send(self, call: Callable[[], Awaitable[httpx.Response]]) -> httpx.Response | None:
        try:
            return await call()
        except httpx.TransportError:
            return None

    async def read(self, url: str, **params: Any) -> Any:
        """A read, retried until stock answers (it may be down)."""
        deadline = time.monotonic() + STEP_DEADLINE
        while True:
            r = await self._send(
                lambda: self.day.client.get(url, headers=self.headers, params=params)
            )
            if r is not None and r.status_code == 200:
                return _data(r)
            assert r is None or r.status_code >= 500, f"{url}: {r.text}"
            assert time.monotonic() < deadline, f"back office: {url} never answered"
            await asyncio.sleep(0.3)

    def log(self, what: str, tries: int, how: str, fault: str) -> None:
        self.day.inventory.append(
            f"{what}: {tries} tr{'y' if tries == 1 else 'ies'}, answer {how}, during {fault}, "
            f"done at {self.day.now():.1f}s"
        )

    async def receipt(self, at_attempt: int) -> None:
        """The delivery, once: the same body again after a lost answer or a 5xx; a 409 then
        says the reference was taken by the try whose answer was lost."""
        await self.day.attempted(at_attempt)
        fault = self.day.current
        url = f"{self.tenant}/stores/{self.day.shop.store_code}/stock/receipts"
        deadline = time.monotonic() + STEP_DEADLINE
        tries, unsure, how, dropped, took = 0, False, "", False, 0.0
        while not how:
            tries += 1
            sent = time.monotonic()
            r = await self._send(
                lambda: self.day.client.post(url, headers=self.headers, json=RECEIPT)
            )
            if not dropped and r is not None and r.status_code == 201:
                took = time.monotonic() - sent
                # The first 201 is dropped (a lost connection), so that every run takes the
                # 409-after-a-lost-answer path; the final checks prove it applied once.
                assert _data(r)["reference"] == RECEIPT["reference"], r.text
                r, dropped = None, True
            if r is not None and r.status_code == 201:
                assert _data(r)["reference"] == RECEIPT["reference"], r.text
                how = "201"
            elif r is not None and r.status_code == 409 and unsure:
                assert r.json()["code"] == "414401", r.text  # the reference is taken
                how = "409 after a lost answer (applied by that try)"
            else:
                assert r is None or r.status_code >= 500, f"receipt: {r.text}"
                unsure = True
                assert time.monotonic() < deadline, "back office: receipt never went through"
                await asyncio.sleep(0.3)
        what = f"receipt {RECEIPT['reference']} into {self.day.shop.store_code}"
        if dropped:
            what += f" (its first 201, in {took * 1000:.0f} ms, dropped)"
        self.log(what, tries, how, fault)

    async def find_transfer(self) -> dict[str, Any] | None:
        page = await self.read(self.transfers, store=self.day.shop.store_code, limit=1000)
        mine = [t for t in page["data"] if t.get("operatorId") == self.operator]
        assert len(mine) <= 1, f"transfer shipped twice: {mine}"
        return mine[0] if mine else None

    async def ship(self) -> None:
        """Waits for the mid-transfer fault: stock dies right after the POST is sent. A day
        without that fault ships once its faults are done (at once, on a day without any)."""
        waits = [
            asyncio.create_task(self.day.kill_in_transfer.wait()),
            asyncio.create_task(self.day.faults_done.wait()),
        ]
        await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        for task in waits:
            task.cancel()
        victim = self.day.kill_in_transfer.is_set()
        self.day.kill_in_transfer.clear()
        fault = self.day.current
        body = {
            "fromStore": self.day.shop.store_code,
            "toStore": self.day.second_store,
            "lines": [{"itemCode": c, "quantity": q} for c, q in TRANSFER.items()],
            "operatorId": self.operator,
        }
        deadline = time.monotonic() + STEP_DEADLINE
        tries, how, first = 0, "", ""
        while not how:
            tries += 1
            call = lambda: self.day.client.post(self.transfers, headers=self.headers, json=body)  # noqa: E731
            if victim:
                url = self.day.at_victim(self.transfers, "stock")
                task = asyncio.create_task(
                    self._send(
                        lambda u=url: self.day.client.post(u, headers=self.headers, json=body)
                    )
                )
                delay = self.day.rng.uniform(0.0, TRANSFER_KILL_WITHIN)
                await asyncio.sleep(delay)
                killed = self.day.victim
                await asyncio.to_thread(self.day.stack.kill_component, killed)
                self.day.transfer_killed.set()
                r = await task
                first = f"{killed} killed in flight, first try "
                first += f"{r.status_code if r is not None else 'unanswered'}"
                first += f", killed {delay * 1000:.0f} ms after sending"
                # Answered before the kill: dropped (a lost connection), to be found.
                r = None if r is not None and r.status_code == 201 else r
                victim = False
            else:
                r = await self._send(call)
            if r is not None and r.status_code == 201:
                self.transfer_id = _data(r)["transferId"]
                how = "201"
                break
            assert r is None or r.status_code >= 500, f"transfer: {r.text}"
            # Lost or failed: shipped or not? Only a transfer not found is sent again.
            found = await self.find_transfer()
            if found is not None:
                self.transfer_id = found["transferId"]
                how = "lost, found shipped (not sent again)"
                break
            assert time.monotonic() < deadline, "back office: transfer never shipped"
            await asyncio.sleep(0.3)
        self.log(
            f"transfer {self.transfer_id} {body['fromStore']}->{body['toStore']}"
            + (f" ({first})" if first else ""),
            tries,
            how,
            fault,
        )

    async def receive(self, number: int, lines: dict[str, int], complete: bool) -> None:
        """The second store takes goods in; a lost answer is found in the transfer's receipts
        (this is its receipt `number`, counting from 1)."""
        fault = self.day.current
        url = f"{self.transfers}/{self.transfer_id}"
        body = {
            "lines": [{"itemCode": c, "quantity": q} for c, q in lines.items()],
            "complete": complete,
        }
        deadline = time.monotonic() + STEP_DEADLINE
        tries, how = 0, ""
        while not how:
            tries += 1
            r = await self._send(
                lambda: self.day.client.post(f"{url}/receive", headers=self.headers, json=body)
            )
            if r is not None and r.status_code == 200:
                assert len(_data(r)["receipts"]) == number, r.text
                how = "200"
                break
            assert r is None or r.status_code >= 500, f"receive: {r.text}"
            if len((await self.read(url))["receipts"]) >= number:
                how = "lost, found received"
                break
            assert time.monotonic() < deadline, "back office: receive never went through"
            await asyncio.sleep(0.3)
        what = "complete" if complete else "part"
        self.log(f"receive {what} {lines} at {self.day.second_store}", tries, how, fault)

    async def run(self, receipt_at: int) -> None:
        async def transfer() -> None:
            await self.ship()
            for number, (lines, complete) in enumerate(RECEIVES, start=1):
                await asyncio.sleep(self.day.rng.uniform(0.5, 2.0))
                await self.receive(number, lines, complete)

        await asyncio.gather(self.receipt(receipt_at), transfer())


async def run_till(day: Day, till: FaultTill, cash: list[tuple[str, int]]) -> dict[str, Any]:
    rng = random.Random(day.rng.random())
    mine: list[Bill] = []
    done = 0
    refunds = list(REFUNDS.get(till.no, ()))
    card_no = day.cards.get(till.no)
    cancels = card_no is not None and till.no == min(day.cards)
    gift_sold = False
    while done < day.sales_per_till or not day.faults_done.is_set():
        lines = [(code, rng.randint(1, 3)) for code in rng.sample(ITEMS, rng.randint(2, 4))]
        poison = till.no == 1 and done == 1 and day.poison is None
        if poison:  # stock's handler fails on this one (a bug): it becomes a dead letter
            lines = [(POISON_ITEM, 1)]
        # The card is sold with the third sale (never refunded: the returns take the first
        # two), and pays part of the sales after it.
        gift = card_no if done == 2 and not gift_sold else None
        card = None
        if card_no is not None and gift_sold and done >= 3:
            want = rng.randint(200, CARD_PAY_MAX)
            if cancels:  # once the card's load is there (its sale's log may be late)
                deadline = time.monotonic() + CONVERGE_SECONDS
                while not await till.card_amount(card_no, want):
                    assert time.monotonic() < deadline, f"card of till {till.no} not loaded"
                    await asyncio.sleep(0.3)
                cancels = not await till.cancel_paid_by_card(card_no)
            if rng.random() < CARD_SHARE or day.card_fault_waits():
                card = (card_no, want)
        bill = await till.sale(lines, split=rng.random() < 0.5, gift=gift, card=card)
        gift_sold = gift_sold or (gift is not None and bill is not None)
        if poison and bill is not None:
            day.poison = bill
        # The next customer steps up: without that pause three tills saturate two cores and
        # every restart the harness makes takes several times longer.
        await asyncio.sleep(rng.uniform(0.3, 0.8))
        if bill is None:
            continue
        mine.append(bill)
        done += 1
        if done == 2:
            for direction, amount in cash:
                await till.terminal(f"/{direction}", {"amount": amount, "description": "float"})
        if done >= 3 and refunds:
            what, _, reason = refunds.pop(0).partition(":")
            if what in ("return", "void"):
                await till.refund(102 if what == "return" else 201, mine[0])
            elif what == "partial":  # till 1's second sale is the poison one: its first
                await till.partial_return(mine[0 if till.no == 1 else 1], reason or None, rng)
            else:
                await till.blind_return(reason, rng)
        elif day.kill_in_return.is_set() and not refunds and _returnable(bill):
            # The planned returns are done and a mid-return fault waits: one more partial
            # return of the sale just made (if none of it is on a card), to be its victim.
            day.extra_returns += 1
            await till.partial_return(bill, "CHANGED", rng)
        assert done < 200, "the day never ended"
    assert not refunds, f"till {till.no}: returns not taken {refunds}"
    return await till.terminal("/close", {})


def _returnable(bill: Bill) -> bool:
    """A sale a partial return in cash may take: no gift card sold, nothing paid by card."""
    return GIFT_CARD_ITEM.code not in bill.lines and all(c != "21" for c, _ in bill.tenders)


async def inject(day: Day, fault: Fault) -> None:
    stack = day.stack
    fault.at_seconds = day.now()
    day.current = fault.name
    day.victim = fault.component
    if fault.mid_bill:
        day.kill_in_bill.set()
        await asyncio.wait_for(day.bill_killed.wait(), STEP_DEADLINE)
    elif fault.mid_return:
        day.kill_in_return.set()
        await asyncio.wait_for(day.return_killed.wait(), STEP_DEADLINE)
    elif fault.mid_transfer:
        day.kill_in_transfer.set()
        await asyncio.wait_for(day.transfer_killed.wait(), STEP_DEADLINE)
    elif fault.mid_capture:
        day.kill_in_capture.set()
        await asyncio.wait_for(day.capture_killed.wait(), STEP_DEADLINE)
    elif fault.mid_hold:
        day.kill_in_hold.set()
        await asyncio.wait_for(day.hold_killed.wait(), STEP_DEADLINE)
    else:
        assert await asyncio.to_thread(stack.kill_component, fault.component), fault.name
    restart = restart_after(stack, fault, time.monotonic())
    if fault.overlap:
        day.restarts.append(asyncio.create_task(restart))
    else:
        await restart


async def restart_after(stack: Stack, fault: Fault, down: float) -> None:
    await asyncio.sleep(fault.down_seconds)
    if fault.wipe:
        await asyncio.to_thread(stack.wipe_data, fault.component)
    await asyncio.to_thread(stack.start_component, fault.component)
    fault.restart_seconds = time.monotonic() - down


async def drive_faults(day: Day, faults: list[Fault]) -> None:
    try:
        for fault in faults:
            await day.attempted(fault.at_bill)
            await inject(day, fault)
            # Let a sale start on the healed stack before the next crash.
            await day.attempted(day.attempts + 1)
        await asyncio.gather(*day.restarts)
        day.current = "-"
    finally:
        day.faults_done.set()


async def watch_journal(day: Day, stop: asyncio.Event) -> None:
    """When each transaction first shows in the journal (for the event lag)."""
    url = day.shop.url("journal", f"/api/v1/tenants/{day.shop.tenant_id}")
    url += f"/stores/{day.shop.store_code}/journals"
    while not stop.is_set():
        try:
            r = await day.client.get(url, headers=day.shop.admin, params={"limit": 1000})
            if r.status_code == 200:
                for e in _data(r):
                    if e.get("transactionNo") is not None and e["transactionType"] in (
                        101,
                        102,
                        201,
                    ):
                        day.seen_in_journal.setdefault(
                            (e["terminalNo"], e["transactionNo"]), day.now()
                        )
        except httpx.TransportError:
            pass
        await asyncio.sleep(0.5)


async def eventually[T](probe: Callable[[], Awaitable[T]], ok: Callable[[T], bool]) -> T:
    deadline = time.monotonic() + CONVERGE_SECONDS
    while True:
        value = await probe()
        if ok(value) or time.monotonic() > deadline:
            return value
        await asyncio.sleep(0.5)


def plan(
    rng: random.Random,
    *,
    kill_mongo: bool = True,
    tills: int = TILLS,
    sales_per_till: int = SALES_PER_TILL,
) -> list[Fault]:
    """The fault suite's faults (one process of each service), at seeded random sales."""
    wire = rng.choice(CONSUMERS)
    faults = [
        *(Fault(f"kill {name}", name) for name in CONSUMERS),
        Fault("kill sidecar", SIDECAR),
        Fault("kill cart mid-bill", "cart", mid_bill=True),
        Fault("kill cart mid-return", "cart", mid_return=True),
        Fault("kill stock mid-transfer", "stock", mid_transfer=True),
        Fault("kill stored-value mid-capture", "stored-value", mid_capture=True),
        Fault("kill cart between hold and bill", "cart", mid_hold=True),
        *([Fault(f"kill mongo-{wire}", mongo_component(wire))] if kill_mongo else []),
        Fault("kill redis (data kept)", REDIS),
        Fault("kill redis (from empty)", REDIS, wipe=True),
    ]
    return spread(rng, faults, tills * sales_per_till)


def spread(rng: random.Random, faults: list[Fault], total: int) -> list[Fault]:
    """Shuffles the faults and gives each a sale (of `total`) and a downtime, seeded."""
    rng.shuffle(faults)
    points = sorted(rng.sample(range(2, total - 2), len(faults)))
    for fault, point in zip(faults, points, strict=True):
        fault.at_bill = point
        fault.down_seconds = round(rng.uniform(0.0, 0.8), 2)
    return faults


def table(seed: int, faults: list[Fault], rows: dict[str, dict[str, Any]], title: str = "") -> str:
    head = (
        f"{'fault':<32}{'sale#':>6}{'at s':>7}{'down s':>7}{'up s':>6}{'ok':>5}{'failed':>7}"
        f"{'ret':>5}{'lost':>6}{'dup':>5}{'max lag s':>10}"
    )
    out = [f"{title or 'store day under faults'}, seed {seed}", head, "-" * len(head)]
    for name in ["-", *(f.name for f in faults)]:
        fault = next((f for f in faults if f.name == name), None)
        row = rows.get(name, {})
        lag = row.get("lag")
        out.append(
            f"{'(before first fault)' if fault is None else name:<32}"
            f"{fault.at_bill if fault else 0:>6}"
            f"{fault.at_seconds if fault else 0:>7.1f}"
            f"{fault.down_seconds if fault else 0:>7.2f}"
            f"{fault.restart_seconds if fault else 0:>6.1f}"
            f"{row.get('ok', 0):>5}{row.get('failed', 0):>7}{row.get('ret', 0):>5}"
            f"{row.get('lost', 0):>6}{row.get('dup', 0):>5}"
            f"{'-' if lag is None else f'{lag:.1f}':>10}"
        )
    return "\n".join(out)


SIGN = {101: 1, 102: -1, 201: -1}


def cash_plan(tills: int) -> dict[int, list[tuple[str, int]]]:
    """Each till's cash movements (after its second sale): the suite's three, then one cash-in
    each for the tills of a bigger day."""
    cash = {
        1: [("cash-in", 500)],
        2: [("cash-out", 300)],
        3: [("cash-in", 200), ("cash-out", 100)],
    }
    return {no: cash.get(no, [("cash-in", 100 + no)]) for no in range(1, tills + 1)}


def poison_services(services: Iterable[ServiceSpec] = SERVICES) -> tuple[ServiceSpec, ...]:
    """The registered services, stock's handler failing on the poison item (POISON_FILE)."""
    return tuple(
        replace(spec, asgi="kugelpos.testkit.poison:stock") if spec.name == "stock" else spec
        for spec in services
    )


@dataclass
class DayResult:
    """What a day left behind, for checks a caller adds (two replicas: caches, schedules)."""

    day: Day
    tills: list[FaultTill]
    business_date: str
    summary: list[str]


async def run_day(
    stack: Stack,
    client: httpx.AsyncClient,
    urls: dict[str, str],
    *,
    seed: int,
    rng: random.Random,
    poison_file: Path,
    faults: Callable[[Day], list[Fault]],
    print_summary: Callable[[str], None],
    tills: int = TILLS,
    sales_per_till: int = SALES_PER_TILL,
    title: str = "",
    process_urls: dict[str, str] | None = None,
) -> DayResult:
    """The store day: a shop at `tills` tills through `urls` (each service's address, a front
    for replicas), the faults `faults(day)` plans injected at their sales, then every check of
    the outcome (nothing lost, nothing doubled, every outbox event delivered). The summary and
    the fault table go to `print_summary`. `process_urls`: see `Day.process_urls`."""
    shop = await open_shop(
        client,
        urls,
        terminals=tills,
        items=(*DEFAULT_ITEMS, GIFT_CARD_ITEM),
        payments=(*DEFAULT_PAYMENTS, CARD_PAYMENT),
    )
    # The gift cards the odd-numbered tills sell, issued by the admin (inactive until sold).
    sv_base = shop.url("stored-value", f"/api/v1/tenants/{shop.tenant_id}")
    card_tills = [t.terminal_no for t in shop.tills if t.terminal_no % 2]
    r = await client.post(
        f"{sv_base}/cards", headers=shop.admin, json={"kind": "gift", "count": len(card_tills)}
    )
    assert r.status_code == 201, r.text
    issued = [c["cardNo"] for c in _data(r)]
    md = shop.url("master-data", f"/api/v1/tenants/{shop.tenant_id}")
    manager = {"id": MANAGER["staffId"], "name": "Manager", "pin": MANAGER["pin"]}
    r = await client.post(f"{md}/staff", headers=shop.admin, json=manager | {"roles": ["manager"]})
    assert r.status_code == 201, r.text
    for code, restock in REASONS.items():
        body = {"reasonCode": code, "description": code.title(), "restock": restock}
        r = await client.post(f"{md}/return-reasons", headers=shop.admin, json=body)
        assert r.status_code == 201, r.text
    stock_base = shop.url("stock", f"/api/v1/tenants/{shop.tenant_id}/stores/{shop.store_code}")
    for code in ITEMS:
        r = await client.put(
            f"{stock_base}/stock/{code}/update",
            headers=shop.admin,
            json={"quantityChange": INITIAL_STOCK, "updateType": "initial"},
        )
        assert r.status_code == 200, r.text
    # The second store, made as the first (terminal service): a transfer's destination.
    second = "S" + f"{rng.randrange(16**4):04X}"
    while second == shop.store_code:
        second = "S" + f"{rng.randrange(16**4):04X}"
    r = await client.post(
        shop.url("terminal", f"/api/v1/tenants/{shop.tenant_id}/stores"),
        headers=shop.admin,
        json={"storeCode": second, "storeName": "Second store"},
    )
    assert r.status_code == 201, r.text
    day = Day(
        stack,
        shop,
        client,
        rng,
        tills=tills,
        sales_per_till=sales_per_till,
        second_store=second,
        process_urls=process_urls or {},
        cards=dict(zip(card_tills, issued, strict=True)),
    )
    planned_faults = faults(day)
    fault_tills = [FaultTill(day, till) for till in shop.tills]
    # A customer changes their mind: a cart with items, cancelled (a cancelled sale).
    first = fault_tills[0]
    cart_id = _data(await first.register.post("", {"transactionType": 101}))["cartId"]
    _data(await first.register.add(cart_id, ("4901", 2), ("4902", 1)))
    cancelled = _data(await first.register.post(f"/{cart_id}/cancel"))
    assert cancelled["cartStatus"] == "Cancelled"
    day.cancelled.append((first.no, int(cancelled["transactionNo"])))
    cash = cash_plan(tills)
    stop_watch = asyncio.Event()
    watcher = asyncio.create_task(watch_journal(day, stop_watch))
    driver = asyncio.create_task(drive_faults(day, planned_faults))
    back_office = BackOffice(day)
    receipt_at = rng.randrange(2, tills * sales_per_till - 2)
    office = asyncio.create_task(back_office.run(receipt_at))
    try:
        closes = await asyncio.gather(*(run_till(day, t, cash[t.no]) for t in fault_tills))
        await driver
        await office
    finally:
        driver.cancel()
        office.cancel()
    assert all(c["businessDate"] for c in closes)
    business_date = closes[0]["businessDate"]
    # Each till's close counted its own session from the cart (the terminal asks whichever
    # cart answers): every transaction it knows, the cancelled cart included, and the cash.
    for t, closed in zip(fault_tills, closes, strict=True):
        mine = [b for b in day.bills if b.till == t.no]
        count = len(mine) + sum(no == t.no for no, _ in day.cancelled)
        cash_in_sales = sum(
            SIGN[b.kind] * amount for b in mine for code, amount in b.tenders if code == "01"
        )
        assert (closed["cartTransactionCount"], round(closed["cashSalesAmount"], 2)) == (
            count,
            round(cash_in_sales, 2),
        ), f"seed {seed}: till {t.no} closed with {closed}"

    # ---- the outcome, with the stack healthy again ------------------------------------
    expected = {(b.till, b.transaction_no): b for b in day.bills}
    journal_url = shop.url("journal", f"/api/v1/tenants/{shop.tenant_id}")
    journal_url += f"/stores/{shop.store_code}/journals"

    async def journal() -> list[dict[str, Any]]:
        r = await client.get(journal_url, headers=shop.admin, params={"limit": 1000})
        return _data(r) if r.status_code == 200 else []

    want_entries = len(expected) + 2 * tills + tills + sum(len(c) for c in cash.values())
    want_entries += len(day.cancelled)
    entries = await eventually(journal, lambda es: len(es) >= want_entries)
    await asyncio.sleep(2)  # late redeliveries must add nothing
    entries = await journal()
    stop_watch.set()
    await watcher

    tran_counts = Counter(
        (e["terminalNo"], e["transactionNo"])
        for e in entries
        if e["transactionType"] in SIGN and e.get("transactionNo") is not None
    )
    rows: dict[str, dict[str, Any]] = defaultdict(dict)
    for bill in day.bills:
        row = rows[bill.fault]
        row["ok"] = row.get("ok", 0) + 1
        row["ret"] = row.get("ret", 0) + (bill.kind == 102)
        n = tran_counts.get((bill.till, bill.transaction_no), 0)
        row["lost"] = row.get("lost", 0) + (n == 0)
        row["dup"] = row.get("dup", 0) + (n > 1)
        seen = day.seen_in_journal.get((bill.till, bill.transaction_no))
        if seen is not None:
            row["lag"] = max(row.get("lag") or 0.0, seen - bill.answered_at)
    for _, fault_name, _ in day.failures:
        rows[fault_name]["failed"] = rows[fault_name].get("failed", 0) + 1

    # Every transaction the cart recorded is one the tills know (nothing from a failed
    # sale), and each is in the journal exactly once.
    recorded: set[tuple[int, int]] = set()
    for t in fault_tills:
        r = await client.get(
            t.register.transactions_url(),
            params=t.till.params | {"limit": 1000, "include_cancelled": "true"},
            headers=t.till.headers,
        )
        recorded |= {(t.no, x["transactionNo"]) for x in _data(r)}

    # The daily report counts each once: totals equal the sum of the bill answers.
    report_url = shop.url("report", f"/api/v1/tenants/{shop.tenant_id}")
    report_url += f"/stores/{shop.store_code}/reports"

    async def daily() -> httpx.Response:
        return await client.get(
            report_url,
            headers=shop.admin,
            params={
                "report_scope": "daily",
                "report_type": "sales",
                "business_date": business_date,
            },
        )

    report = await eventually(daily, lambda r: r.status_code == 200)

    # The poison sale: in stock's dead letters (and nothing else, anywhere), given up by
    # the cart's outbox. Then the bug is "fixed" and the admin replays it.
    assert day.poison is not None
    tenant = f"/api/v1/tenants/{shop.tenant_id}"

    async def letters(service: str, state: str = "open") -> list[dict[str, Any]]:
        url = shop.url(service, f"{tenant}/dead-letters")
        r = await client.get(url, headers=shop.admin, params={"state": state})
        return _data(r) if r.status_code == 200 else [{"unavailable": r.status_code}]

    dead = await eventually(
        lambda: letters("stock"), lambda found: [x.get("state") for x in found] == ["dead"]
    )
    assert [x.get("state") for x in dead] == ["dead"], f"seed {seed}: {dead}"
    (letter,) = dead
    assert letter["naturalKey"].endswith(f":1:{day.poison.transaction_no}"), letter
    assert letter["attempts"] >= 3, letter
    for service in ("journal", "report"):
        assert await letters(service, "all") == [], f"seed {seed}: {service}"
    cart_mongo = AsyncMongoClient(stack.mongo_uri_for("cart"), tz_aware=True)
    try:
        outbox = cart_mongo[stack.db_name("cart", "commons")]["outbox"]

        async def poison_record() -> dict[str, Any]:
            return await outbox.find_one({"event_id": letter["eventId"]}) or {}

        given_up = await eventually(poison_record, lambda r: r.get("relay_status") == "given_up")
        assert given_up["relay_status"] == "given_up", f"seed {seed}: {given_up}"
    finally:
        await cart_mongo.close()
    await asyncio.to_thread(poison_file.write_text, "")
    replay_url = shop.url("stock", f"{tenant}/dead-letters/{letter['eventId']}/replay")
    replayed = _data(await client.post(replay_url, headers=shop.admin))
    assert replayed["outcome"] == "applied", replayed
    again = _data(await client.post(replay_url, headers=shop.admin))
    assert again["outcome"] == "already_replayed", again

    # Stock: initial - sold + returned + voided, each bill applied once.
    want_stock: Counter[str] = Counter({code: INITIAL_STOCK for code in ITEMS})
    for b in day.bills:
        if b.kind == 102 and not b.restock:  # a damaged return goes back to no shelf
            continue
        for code, q in b.lines.items():
            if code in ITEMS:  # the poison sale's item is checked on its own
                want_stock[code] -= SIGN[b.kind] * q

    async def stock() -> dict[str, float]:
        got = {}
        for code in ITEMS:
            r = await client.get(f"{stock_base}/stock/{code}", headers=shop.admin)
            got[code] = float(_data(r)["currentQuantity"]) if r.status_code == 200 else -1
        return got

    # Inventory: the receipt and the transfer out of the selling store, each once.
    for line in RECEIPT["lines"]:
        want_stock[line["itemCode"]] += line["quantity"]
    for code, shipped in TRANSFER.items():
        want_stock[code] -= shipped
    stock_now = await eventually(stock, lambda s: s == dict(want_stock))

    receipt_rows = {}
    for code in ITEMS:
        r = await client.get(
            f"{stock_base}/stock/{code}/history", headers=shop.admin, params={"limit": 1000}
        )
        assert r.status_code == 200, r.text
        receipt_rows[code] = [
            h["quantityChange"]
            for h in _data(r)["data"]
            if h["updateType"] == "receipt" and h["referenceId"] == RECEIPT["reference"]
        ]
    r = await client.get(f"{stock_base}/stock/receipts", headers=shop.admin, params={"limit": 1000})
    assert r.status_code == 200, r.text
    receipts = [x for x in _data(r)["data"] if x["reference"] == RECEIPT["reference"]]
    r = await client.get(
        back_office.transfers, headers=shop.admin, params={"store": second, "limit": 1000}
    )
    assert r.status_code == 200, r.text
    transfers = _data(r)["data"]
    second_base = shop.url("stock", f"/api/v1/tenants/{shop.tenant_id}/stores/{second}")
    r = await client.get(f"{second_base}/stock", headers=shop.admin, params={"limit": 1000})
    assert r.status_code == 200, r.text
    second_stock = {x["itemCode"]: x["currentQuantity"] for x in _data(r)["data"]}
    r = await client.get(f"{stock_base}/stock/{POISON_ITEM}", headers=shop.admin)
    poison_stock = float(_data(r)["currentQuantity"]) if r.status_code == 200 else None

    # Delivery status: every outbox event of the day reaches `delivered`.
    async def undelivered() -> list[tuple[str, str, str]]:
        left = []
        for service in ("cart", "terminal"):
            mongo = AsyncMongoClient(stack.mongo_uri_for(service), tz_aware=True)
            try:
                async for rec in mongo[stack.db_name(service, "commons")]["outbox"].find(
                    {"tenant_id": shop.tenant_id, "status": {"$ne": "delivered"}}
                ):
                    left.append((service, rec["topic"], rec["status"]))
            finally:
                await mongo.close()
        return left

    not_delivered = await eventually(undelivered, lambda left: not left)

    # Gift cards: each card sold once, loaded once; every card payment billed captured once;
    # every other hold (the cancelled cart's, a payment whose answer was lost, an abandoned
    # cart's) released, by a log or by its expiry. A card's ledger sums to its balance.
    loads: Counter[int] = Counter()
    captured: Counter[int] = Counter()
    for b in day.bills:
        on_card = sum(amount for code, amount in b.tenders if code == "21")
        assert b.kind == 101 or not on_card, f"seed {seed}: a refund onto a card {b}"
        if b.kind == 101:
            loads[b.till] += b.lines.get(GIFT_CARD_ITEM.code, 0)
            captured[b.till] += round(on_card)
    want_cards = {no: (GIFT_LOAD * loads[no] - captured[no], 0) for no in day.cards}

    async def card_states() -> dict[int, tuple[int, int] | None]:
        got: dict[int, tuple[int, int] | None] = {}
        for no, card_no in day.cards.items():
            r = await client.get(f"{sv_base}/cards/{card_no}", headers=shop.admin)
            card = _data(r) if r.status_code == 200 else None
            got[no] = None if card is None else (card["balance"], card["heldAmount"])
        return got

    cards_now = await eventually(card_states, lambda got: got == want_cards)
    ledgers: dict[int, list[dict[str, Any]]] = {}
    for no, card_no in day.cards.items():
        r = await client.get(
            f"{sv_base}/cards/{card_no}/ledger", headers=shop.admin, params={"limit": 1000}
        )
        assert r.status_code == 200, r.text
        ledgers[no] = _data(r)
    card_lines = []
    for no, entries_of in ledgers.items():
        kinds = Counter(e["kind"] for e in entries_of)
        # Why each hold was released (the cancelled sale's log, the payments taken back by a
        # failed request, or its expiry).
        reasons: Counter[str] = Counter()
        for e in entries_of:
            if e["kind"] == "release":
                r = await client.get(f"{sv_base}/holds/{e['holdId']}", headers=shop.admin)
                reasons[_data(r)["releaseReason"] if r.status_code == 200 else "?"] += 1
        card_lines.append(
            f"  card ****{day.cards[no][-4:]} of till {no}: loaded {loads[no]}x{GIFT_LOAD}, "
            f"{kinds['capture']} payments captured ({captured[no]}), {kinds['hold']} holds, "
            f"{kinds['release']} released {dict(reasons)}, balance "
            f"{(cards_now.get(no) or (None,))[0]}"
        )

    # The mid-capture fault's holds: captured before stored-value died, or after (its log
    # redelivered, to the restarted process or, with replicas, to the other one).
    capture_lines = []
    if day.capture_victim is not None:
        holds, killed_at = day.capture_victim
        for hold_id in holds:
            r = await client.get(f"{sv_base}/holds/{hold_id}", headers=shop.admin)
            hold = _data(r) if r.status_code == 200 else {}
            at = hold.get("capturedAt")
            when = (
                "not captured"
                if at is None
                else "before the kill"
                if datetime.fromisoformat(at).replace(tzinfo=UTC) < killed_at
                else "after the kill (its log redelivered)"
            )
            capture_lines.append(
                f"  mid-capture: hold {hold_id[-12:]} {hold.get('state')}, captured {when}"
            )

    summary = [
        table(seed, planned_faults, rows, title),
        f"bills ok {len(day.bills)} (recovered after a lost answer: "
        f"{sum(b.how == 'recovered' for b in day.bills)}, replayed to a retry: "
        f"{sum(b.how == 'replayed' for b in day.bills)}), failed {len(day.failures)}, "
        f"journal entries {len(entries)}, day {day.now():.0f}s",
        *(f"  failed sale at till {n} during {f}: {why}" for n, f, why in day.failures),
        *(f"  inventory: {action}" for action in day.inventory),
        *card_lines,
        *([f"  {day.card_cancel}"] if day.card_cancel else []),
        *capture_lines,
        *(
            f"  return #{b.transaction_no} at till {b.till}: {b.note.strip() or 'v1 whole'}, "
            f"reason {b.reason or '-'}{'' if b.restock else ' (not restocked)'}, "
            f"{b.total:.0f} back, answer {b.how}, during {b.fault}"
            for b in day.bills
            if b.kind == 102
        ),
    ]
    print_summary("\n".join(summary))

    known = set(expected) | set(day.cancelled)
    assert recorded == known, (
        f"seed {seed}: recorded but unknown {recorded - known}, "
        f"known but not recorded {known - recorded}"
    )
    journalled_cancels = sorted(
        (e["terminalNo"], e["transactionNo"]) for e in entries if e["transactionType"] == -101
    )
    assert journalled_cancels == sorted(day.cancelled), f"seed {seed}: cancelled sales"
    lost = [k for k in expected if tran_counts.get(k, 0) == 0]
    doubled = [k for k, n in tran_counts.items() if n > 1]
    strays = [k for k in tran_counts if k not in expected]
    assert (lost, doubled, strays) == ([], [], []), f"seed {seed}: journal"
    others = Counter((e["terminalNo"], e["transactionType"]) for e in entries)
    for t in fault_tills:
        ins = 1 + sum(d == "cash-in" for d, _ in cash[t.no])
        outs = sum(d == "cash-out" for d, _ in cash[t.no])
        assert [others[(t.no, k)] for k in (301, 302, 401, 402)] == [1, 1, ins, outs], (
            f"seed {seed}: open/close/cash entries of till {t.no}"
        )

    assert report.status_code == 200, f"seed {seed}: {report.text}"
    data = _data(report)
    sales = [b for b in day.bills if b.kind == 101]
    assert data["salesGross"]["count"] == len(sales) - sum(b.kind == 201 for b in day.bills)
    assert data["returns"]["count"] == sum(b.kind == 102 for b in day.bills)
    returns = [b for b in day.bills if b.kind == 102]
    planned = sum(len(r) for r in REFUNDS.values()) - 1  # one is a void
    assert len(returns) == planned + day.extra_returns, f"seed {seed}: returns"
    by_reason: dict[str | None, list[Bill]] = defaultdict(list)
    for b in returns:
        by_reason[b.reason].append(b)
    assert {
        r["reasonCode"]: (r["count"], round(r["amount"], 2), r["quantity"], r["blindCount"])
        for r in data["returnsByReason"]
    } == {
        reason: (
            len(bs),
            round(sum(b.total for b in bs), 2),
            sum(sum(b.lines.values()) for b in bs),
            sum(b.note.startswith("blind") for b in bs),
        )
        for reason, bs in by_reason.items()
    }, f"seed {seed}: returns by reason"
    assert round(data["returns"]["amount"], 2) == round(sum(b.total for b in returns), 2)
    net = sum(SIGN[b.kind] * b.total for b in day.bills)
    taxes = sum(t["taxAmount"] for t in data["taxes"])
    paid: Counter[str] = Counter()
    for b in day.bills:
        for code, amount in b.payments.items():
            paid[code] += SIGN[b.kind] * amount
    reported = {p["paymentName"]: p["amount"] for p in data["payments"]}
    assert {c: round(a, 2) for c, a in paid.items() if a} == {
        c: round(a, 2) for c, a in reported.items() if a
    }, f"seed {seed}: payments"
    assert round(data["salesNet"]["amount"] + taxes, 2) == round(net, 2), f"seed {seed}"
    assert (
        data["cash"]["cashIn"]["count"]
        == sum(d == "cash-in" for c in cash.values() for d, _ in c) + tills
    )

    assert stock_now == dict(want_stock), f"seed {seed}: stock"
    # The receipt applied exactly once: one history row per line, one receipt listed.
    assert receipt_rows == {
        code: [line["quantity"] for line in RECEIPT["lines"] if line["itemCode"] == code]
        for code in ITEMS
    }, f"seed {seed}: receipt rows"
    assert len(receipts) == 1, f"seed {seed}: receipts {receipts}"
    # The transfer exactly once, received, each line shipped = received + discrepancy and
    # nothing left in transit; the second store holds what it received, nothing else.
    assert [t["transferId"] for t in transfers] == [back_office.transfer_id], (
        f"seed {seed}: transfers {transfers}"
    )
    (transfer,) = transfers
    received = _sum((c, q) for lines, _ in RECEIVES for c, q in lines.items())
    assert transfer["status"] == "received", f"seed {seed}: {transfer}"
    assert (transfer["fromStore"], transfer["toStore"]) == (shop.store_code, second)
    assert len(transfer["receipts"]) == len(RECEIVES), f"seed {seed}: {transfer}"
    assert {
        x["itemCode"]: (
            x["shippedQuantity"],
            x["receivedQuantity"],
            x["inTransitQuantity"],
            x["discrepancyQuantity"],
        )
        for x in transfer["lines"]
    } == {code: (q, received[code], 0, q - received[code]) for code, q in TRANSFER.items()}, (
        f"seed {seed}: transfer lines"
    )
    assert second_stock == received, f"seed {seed}: second store"
    assert poison_stock == -1.0, f"seed {seed}: the replayed poison sale, once"
    assert not_delivered == [], f"seed {seed}: not delivered {not_delivered}"
    assert cards_now == want_cards, f"seed {seed}: cards (balance, held) {cards_now}"
    for no, entries_of in ledgers.items():
        kinds = Counter(e["kind"] for e in entries_of)
        assert (kinds["activation"], kinds["load"]) == (1, loads[no]) == (1, 1), (
            f"seed {seed}: card of till {no} loaded {kinds}"
        )
        assert sum(e["change"] for e in entries_of) == want_cards[no][0], (
            f"seed {seed}: ledger of till {no}'s card {entries_of}"
        )
        # Every hold ends once: captured or released (a capture after an expiry debits).
        assert kinds["hold"] == kinds["release"] + kinds["capture"] - sum(
            e["kind"] == "capture" and e.get("holdId") is not None and e["change"] < 0
            for e in entries_of
        ), f"seed {seed}: holds of till {no}'s card {kinds}"
    assert day.card_cancel.startswith("cart paid"), f"seed {seed}: {day.card_cancel}"
    assert await letters("stored-value", "all") == [], f"seed {seed}: stored-value letters"
    return DayResult(day, fault_tills, business_date, summary)
