"""Event lag under load: terminals selling in a closed loop, and watchers that see each sale
arrive in a consumer (journal, report, stock).

Why one watcher per consumer, polling for every outstanding bill at once: a poller per bill
sends N requests every few milliseconds at N terminals, and on a 2-core machine the
measurement then takes the CPU it measures. A watcher asks its `Probe` (one or two requests)
which of the outstanding bills are visible yet, sleeps a little, and stops once the tills are
done and nothing is outstanding. A bill not seen within the timeout is an error, not a hang.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from kugelpos.devstack.pos import Register

POLL_SECONDS = 0.02
TIMEOUT_SECONDS = 60.0


@dataclass(frozen=True)
class Bill:
    """A sale as the till saw it answered."""

    terminal_no: int
    transaction_no: int
    receipt_no: int
    business_date: str
    ordinal: int  # 1 for the store's first bill, in the order the responses arrived
    billed_at: float  # perf_counter() right after the bill's response


# Which of the outstanding bills a consumer shows by now.
Probe = Callable[[Sequence[Bill]], Awaitable[Iterable[Bill]]]
# One sale at a till: the billed cart's data, or None when a step was refused.
Sale = Callable[[Register], Awaitable[dict[str, Any] | None]]


@dataclass
class Watcher:
    """Polls one consumer for the outstanding bills; collects the lags (ms) and timeouts."""

    probe: Probe
    timeout: float = TIMEOUT_SECONDS
    lags: list[float] = field(default_factory=list, init=False)
    timeouts: int = field(default=0, init=False)
    # A dict as an ordered set: probes get the oldest bill first.
    _outstanding: dict[Bill, None] = field(default_factory=dict, init=False, repr=False)

    def add(self, bill: Bill) -> None:
        self._outstanding[bill] = None

    async def run(self, tills_done: asyncio.Event) -> None:
        while self._outstanding or not tills_done.is_set():
            if self._outstanding:
                try:
                    seen = set(await self.probe(list(self._outstanding)))
                except Exception:  # a failed poll is retried; the timeout bounds a dead one
                    seen = set()
                # Seen when the poll answers: a lag is late by at most one poll and one request.
                now = time.perf_counter()
                for bill in list(self._outstanding):
                    if bill in seen:
                        self.lags.append((now - bill.billed_at) * 1000)
                    elif now - bill.billed_at > self.timeout:
                        self.timeouts += 1
                    else:
                        continue
                    del self._outstanding[bill]
            await asyncio.sleep(POLL_SECONDS)


@dataclass(frozen=True)
class TillRun:
    sales: int
    failed: int
    wall_seconds: float  # first sale started → last bill answered
    sale_ms: tuple[float, ...]  # every sale, failed ones included


class Tills:
    """The store's terminals, each selling as soon as its previous sale is billed. Bills are
    numbered across runs, so a warm-up run followed by the measured one keeps the store's
    count of sales (what `report_probe` compares)."""

    def __init__(self, registers: Sequence[Register], sale: Sale) -> None:
        self.registers = registers
        self.sale = sale
        self.billed = 0
        self.last_business_date = ""

    async def run(
        self, sales: int, watchers: Collection[Watcher] = (), *, seconds: float | None = None
    ) -> TillRun:
        """Sell `sales` sales in all, or as many as start within `seconds`; returns once
        every watcher has seen or given up on each bill."""
        deadline = None if seconds is None else time.perf_counter() + seconds

        def numbers() -> Iterator[int]:
            for n in range(sales):
                if deadline is not None and time.perf_counter() >= deadline:
                    return
                yield n

        queue = numbers()
        durations: list[float] = []
        failed = 0
        done = asyncio.Event()

        async def terminal(register: Register) -> None:
            nonlocal failed
            for _ in queue:
                started = time.perf_counter()
                try:
                    data = await self.sale(register)
                    billed_at = time.perf_counter()
                    bill = None if data is None else self._bill(register, data, billed_at)
                except Exception:  # a failed sale is a figure, not a crash
                    billed_at, bill = time.perf_counter(), None
                durations.append((billed_at - started) * 1000)
                if bill is None:
                    failed += 1
                    continue
                for watcher in watchers:
                    watcher.add(bill)

        async with asyncio.TaskGroup() as group:
            for watcher in watchers:
                group.create_task(watcher.run(done))
            wall_start = time.perf_counter()
            async with asyncio.TaskGroup() as selling:
                for register in self.registers:
                    selling.create_task(terminal(register))
            wall = time.perf_counter() - wall_start
            done.set()
        return TillRun(len(durations), failed, wall, tuple(durations))

    def _bill(self, register: Register, data: dict[str, Any], billed_at: float) -> Bill:
        bill = Bill(
            register.till.terminal_no,
            int(data["transactionNo"]),
            int(data["receiptNo"]),
            str(data["businessDate"]),
            self.billed + 1,
            billed_at,
        )
        self.billed += 1
        self.last_business_date = bill.business_date
        return bill


async def quick_sale(register: Register, items: Sequence[str]) -> dict[str, Any]:
    """create → add all items in one call → subtotal → pay cash → bill (raises if refused)."""
    return await register.sale(*((code, 1) for code in items))
