"""Closed-loop load with N concurrent clients, and the latency figures it yields."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

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
class LoadResult:
    requests: int
    errors: int
    concurrency: int
    wall_seconds: float
    latencies_ms: tuple[float, ...]

    def figures(self) -> dict[str, object]:
        ordered = sorted(self.latencies_ms)
        return {
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
