"""Scenario registry. A scenario module registers itself with @scenario and is listed in
SCENARIO_MODULES; the runner starts the services its scenarios name."""

from __future__ import annotations

import importlib
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

import httpx

from kugelpos.bench.timing import LoadResult
from kugelpos.devstack.stack import Stack

SCENARIO_MODULES = (
    "kugelpos.bench.account",
    "kugelpos.bench.master_data",
    "kugelpos.bench.checkout",
    "kugelpos.bench.returns",
    "kugelpos.bench.cards",
    "kugelpos.bench.offline",
    "kugelpos.bench.journal",
    "kugelpos.bench.report",
    "kugelpos.bench.stock",
    "kugelpos.bench.inventory",
    "kugelpos.bench.store_day",
    "kugelpos.bench.soak",
)


@dataclass(frozen=True)
class BenchContext:
    """What a scenario gets: the running stack, a pooled client, and the load to apply."""

    stack: Stack
    client: httpx.AsyncClient
    requests: int
    concurrency_levels: Sequence[int]
    # Earlier sales a store holds before it is timed (None: the scenario's default).
    history: int | None = None


# A scenario yields one LoadResult per (operation, concurrency), labelled by operation name.
ScenarioRun = Callable[[BenchContext], Awaitable[list[tuple[str, LoadResult]]]]


@dataclass(frozen=True)
class Scenario:
    name: str
    services: tuple[str, ...]
    run: ScenarioRun
    # Run without being named in `--only` (a long run is opt-in).
    default: bool = True
    # Processes of each service its stack runs (Stack.replicas_per_service); the scenario
    # then reaches each service through the stack's front (`Stack.front_url`).
    replicas: int = 1


SCENARIOS: dict[str, Scenario] = {}


def scenario(
    name: str, *, services: Sequence[str], default: bool = True, replicas: int = 1
) -> Callable[[ScenarioRun], ScenarioRun]:
    def register(run: ScenarioRun) -> ScenarioRun:
        if name in SCENARIOS:
            raise ValueError(f"scenario {name!r} registered twice")
        SCENARIOS[name] = Scenario(name, tuple(services), run, default, replicas)
        return run

    return register


def load_scenarios() -> dict[str, Scenario]:
    for module in SCENARIO_MODULES:
        importlib.import_module(module)
    return SCENARIOS
