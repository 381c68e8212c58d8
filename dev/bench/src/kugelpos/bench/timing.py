"""Closed-loop load with N concurrent clients, and the latency figures it yields."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from math import isfinite

# One request: gets its sequence number, returns True on the expected response.
Operation = Callable[[int], Awaitable[bool]]


def percentile(ordered: list[float], pct: float) -> float:
    """Linear-interpolated percentile of an ascending list (pct in 0..100)."""
    if not ordered:
        return float("nan")
    rank = (len(ordered) - 1) * pct / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


@dataclass(frozen=True)
class Goal:
    """A target a figure is read against: its percentile `pct` at most `ms` milliseconds, or
    at most `times_floor` times the floor's same percentile (a figure without a floor, or
    without latencies, can't be judged: `met` is then None)."""

    pct: int
    ms: float | None = None
    times_floor: float | None = None

    def describe(self) -> str:
        if self.times_floor is not None:
            return f"p{self.pct} <= {self.times_floor:g}x floor"
        return f"p{self.pct} <= {self.ms:g} ms"

    def met(self, result: LoadResult) -> bool | None:
        value = percentile(sorted(result.latencies_ms), self.pct)
        if self.times_floor is not None:
            if result.floor is None:
                return None
            bound = self.times_floor * percentile(sorted(result.floor.latencies_ms), self.pct)
        else:
            bound = self.ms if self.ms is not None else float("nan")
        if not (isfinite(value) and isfinite(bound)):
            return None
        return value <= bound


def floor_ratio(result: LoadResult, floor: LoadResult, pct: int) -> float | None:
    """The figure's percentile over the floor's (same percentile); None when either is empty."""
    value = percentile(sorted(result.latencies_ms), pct)
    base = percentile(sorted(floor.latencies_ms), pct)
    if not (isfinite(value) and isfinite(base)) or base <= 0:
        return None
    return round(value / base, 2)


@dataclass(frozen=True)
class LoadResult:
    requests: int
    errors: int
    concurrency: int
    wall_seconds: float
    latencies_ms: tuple[float, ...]
    # What the figure is read against (optional, so other scenarios print as before): the
    # floor is a bare app's load at the same concurrency, the goals are targets to meet.
    floor: LoadResult | None = None
    goals: tuple[Goal, ...] = ()
    # Anything else the scenario found worth printing (e.g. what the errors were).
    details: dict[str, object] | None = None

    def figures(self) -> dict[str, object]:
        ordered = sorted(self.latencies_ms)
        figures: dict[str, object] = {
            "concurrency": self.concurrency,
            "requests": self.requests,
            "errors": self.errors,
            "latency_ms": {
                "p50": round(percentile(ordered, 50), 2),
                "p95": round(percentile(ordered, 95), 2),
                "p99": round(percentile(ordered, 99), 2),
                "mean": round(sum(ordered) / len(ordered), 2) if ordered else None,
                "max": round(ordered[-1], 2) if ordered else None,
            },
            "throughput_rps": round(self.requests / self.wall_seconds, 1),
        }
        if self.floor is not None:
            figures["ratio_to_floor"] = {
                f"p{pct}": floor_ratio(self, self.floor, pct) for pct in (50, 95)
            }
        if self.goals:
            verdicts = [goal.met(self) for goal in self.goals]
            figures["goal"] = ", ".join(goal.describe() for goal in self.goals)
            # A goal that can't be judged leaves the verdict open, unless another one failed.
            figures["met"] = False if False in verdicts else None if None in verdicts else True
        if self.details:
            figures.update(self.details)
        return figures


async def run_load(operation: Operation, *, requests: int, concurrency: int) -> LoadResult:
    """Run `requests` operations with `concurrency` clients, each starting its next request as
    soon as the previous one answers (closed loop: measures service time, not queueing)."""
    latencies: list[float] = []
    errors = 0
    counter = iter(range(requests))

    async def client() -> None:
        nonlocal errors
        for sequence in counter:
            started = time.perf_counter()
            try:
                ok = await operation(sequence)
            except Exception:  # a failed request is a figure, not a crash of the benchmark
                ok = False
            latencies.append((time.perf_counter() - started) * 1000)
            if not ok:
                errors += 1

    wall_start = time.perf_counter()
    async with asyncio.TaskGroup() as group:
        for _ in range(concurrency):
            group.create_task(client())
    wall = time.perf_counter() - wall_start
    return LoadResult(requests, errors, concurrency, wall, tuple(latencies))
