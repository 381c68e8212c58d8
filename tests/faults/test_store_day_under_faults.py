"""A store day over HTTP while the harness SIGKILLs and restarts, one at a time at seeded random
points, each consumer (report, journal, stock), the sidecar, the cart in the middle of a bill,
in the middle of a return and between a gift card's hold and the bill, stored-value while a
bill's log captures a card's hold, a consumer's MongoDB wire server, and Redis (once with its
data, once from empty). Against an
external MongoDB (MONGODB_URI) there is no wire server of the stack's to kill: that fault is
left out.

Besides sales the tills take returns (issue 25): v1's whole return and void of a sale, a
partial return of one unit of one line of an earlier sale (object form, reason DAMAGED that
does not restock, CHANGED that does, or none), and blind returns with a manager's approval.
Each object-form return is quoted first, then taken with an Idempotency-Key; a lost answer is
found as a sale's is (the terminal's one unknown transaction) or replayed by the retry. The
mid-return fault kills the cart within RETURN_KILL_WITHIN of sending a return; if the return
answered first, the till drops that answer (a dropped connection), so a return applied but
unanswered is recovered in most runs.

Afterwards, with the stack healthy again: every bill that answered 200 (or whose answer was
lost and that the till found recorded) is in the journal once, counted once in the daily
report (returns also by reason: count, amount, units, blind ones) and applied once to stock
(a return of a non-restocking reason moves nothing); no other transaction exists anywhere;
every outbox event of the day is `delivered`. A table of the faults, their timing and outcome
(`ret`: returns among the transactions) and a line per return are printed.

The day also holds a cancelled cart (journalled as -101, counted as cancelled, dropped by
stock on purpose) and a poison event: stock's handler raises (a bug, `kugelpos.testkit.
poison`) on the one sale of item 4906. Whatever the faults did meanwhile, that sale ends up in
stock's dead letters after its bounded tries (an outage in between is retried, not counted),
nothing else does, and the cart's outbox gives it up; the bug "fixed", the admin's replay
applies it once, and only then is every outbox event delivered.

How the till treats an ambiguous step (no answer, or a 5xx): it asks the cart what happened,
as a real till would. `GET /carts/{id}` says whether the step took effect (lines there, balance
paid, cart completed); a cart that is gone (Redis restarted from empty) answers 404, and the
till then looks for a transaction of its terminal it does not know yet, which can only be the
sale it was ringing up (each till rings one sale at a time). Found: the bill counts as
completed. Not found: the sale failed with a clear 4xx and the till rings it up again.

Inventory (issue 28): the shop has a second store, made as the first through the terminal
service. During the day a back office (the shop's admin token) takes a delivery into the
selling store (a fixed reference; a lost answer or a 5xx is retried with the same body, and a
409 on such a retry means the first try was applied: the reference is taken; a first answer
that came is dropped, so every run takes that path), ships a transfer
from the selling store to the second one, and the second store receives it in two goes (part,
then the rest of one line with `complete`, leaving a discrepancy). The fault "kill stock
mid-transfer" SIGKILLs stock right after the transfer's POST is sent; an answer that came first
is dropped (a lost connection), so every run recovers it: before retrying, the back office
looks the transfer up by its operator id in `GET …/stock/transfers?store=`, so it is never
shipped twice. A receive whose answer is lost is found in the transfer's receipts. Afterwards:
the receipt applied once (one `receipt` history row per line with its reference, one receipt
listed), one transfer, `received`, with shipped = received + in transit + discrepancy per line;
the selling store's quantities equal the sales, returns, the receipt and the transfer; the
second store holds exactly what it received.

Gift cards (issue 26): the admin issues a gift card for each odd-numbered till at the start;
the till sells it with its third sale (a card line, GIFT_LOAD on it, loaded by the bill's log
at the stored-value service), then pays part of later sales with it (payment code 21: a hold
at stored-value, captured by the bill's log), only while the card holds twice the amount (room
for a hold a lost answer left open). The first of them also pays a cart partly by card and
cancels it (the cancelled sale's log releases the hold). Two faults: "kill stored-value
mid-capture" SIGKILLs stored-value within CAPTURE_KILL_WITHIN of a card sale's bill answering
(its log on the way to capture the hold; redelivered after the restart), and "kill cart
between hold and bill" SIGKILLs the cart once a card payment is accepted, before the bill is
sent (the till bills again once the cart is back; the cart lives in the state store). A hold
whose payment answer was lost, or whose cart was abandoned, is released by the service's
expiry (HOLD_TTL_SECONDS 15 on this stack; a bill's log that comes after that debits the card
again). Afterwards, for every card: loaded once, balance = load - the card payments billed
(nothing lost, nothing charged twice), nothing held, the ledger sums to the balance and every
hold ended once (captured or released); stored-value has no dead letters.

Seed: KUGELPOS_FAULT_SEED=<n> replays a run's fault points.
"""

from __future__ import annotations

import os
import random
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from kugelpos.devstack.stack import Stack
from kugelpos.testkit.fault_day import (
    FAULT_ENV,
    POISON_ITEM,
    SIDECAR_OPTIONS,
    plan,
    poison_services,
    run_day,
)
from kugelpos.testkit.poison import POISON_FILE


async def test_store_day_under_faults(
    stack_factory: Callable[..., Stack],
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    seed = int(os.environ.get("KUGELPOS_FAULT_SEED") or random.SystemRandom().randrange(10**6))
    with capsys.disabled():
        print(f"\nfault seed {seed} (KUGELPOS_FAULT_SEED={seed} replays it)")
    rng = random.Random(seed)
    poison_file = tmp_path / "poison"
    poison_file.write_text(f"item:{POISON_ITEM}\n")
    stack = stack_factory(
        services=poison_services(),
        mongo_engine="sqlite",
        redis_persistence=True,
        extra_env=FAULT_ENV | {POISON_FILE: str(poison_file)},
        sidecar_options=SIDECAR_OPTIONS,
        startup_timeout=180,
    )

    def print_summary(text: str) -> None:
        with capsys.disabled():
            print(text)

    async with httpx.AsyncClient(timeout=30) as client:
        await run_day(
            stack,
            client,
            {spec.name: stack.url(spec.name) for spec in stack.services},
            seed=seed,
            rng=rng,
            poison_file=poison_file,
            faults=lambda _: plan(rng, kill_mongo=not stack.external_mongo),
            print_summary=print_summary,
        )
