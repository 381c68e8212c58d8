"""`python -m kugelpos.bench`: start a stack on free ports, run scenarios, print JSON."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

import httpx

from kugelpos.bench.scenarios import BenchContext, Scenario, load_scenarios
from kugelpos.devstack.stack import Stack, StackError
from kugelpos.registry.services import service


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m kugelpos.bench")
    parser.add_argument("--requests", type=int, default=200, help="requests per level")
    parser.add_argument("--concurrency", default="1,10", help="comma-separated client counts")
    parser.add_argument(
        "--only", help="comma-separated scenario names (default: all but the opt-in ones)"
    )
    parser.add_argument(
        "--mongo-engine",
        choices=("both", "memory", "sqlite"),
        default="both",
        help="engine of the embedded MongoDB: sqlite is what `make run` uses (default: both)",
    )
    parser.add_argument(
        "--history",
        type=int,
        help="earlier sales a store holds before cart.checkout is timed "
        "(default 5000 or KUGELPOS_BENCH_HISTORY; 0: none)",
    )
    parser.add_argument("--keep-logs", type=Path, help="put the stack's logs here and keep them")
    parser.add_argument("--list", action="store_true", help="list scenarios and exit")
    return parser.parse_args(argv)


async def _run(stack: Stack, chosen: list[Scenario], args: argparse.Namespace) -> list[dict]:
    levels = [int(level) for level in args.concurrency.split(",") if level.strip()]
    limits = httpx.Limits(max_connections=max(levels) * 2, max_keepalive_connections=max(levels))
    figures: list[dict] = []
    async with httpx.AsyncClient(timeout=30, limits=limits) as client:
        context = BenchContext(stack, client, args.requests, levels, history=args.history)
        for item in chosen:
            for name, result in await item.run(context):
                figures.append(
                    {"scenario": name, "services": list(item.services), **result.figures()}
                )
    return figures


def main(argv: Sequence[str] | None = None) -> int:
    args = _parse(argv)
    scenarios = load_scenarios()
    if args.list:
        for item in scenarios.values():
            opt_in = "" if item.default else ", opt-in: name it in --only"
            opt_in += f", {item.replicas} replicas of each" if item.replicas > 1 else ""
            print(f"{item.name}  (services: {', '.join(item.services)}{opt_in})")
        return 0
    wanted = args.only.split(",") if args.only else [n for n, s in scenarios.items() if s.default]
    unknown = [name for name in wanted if name not in scenarios]
    if unknown:
        print(f"unknown scenario(s): {', '.join(unknown)}", file=sys.stderr)
        return 2
    chosen = [scenarios[name] for name in wanted]
    engines = ("sqlite", "memory") if args.mongo_engine == "both" else (args.mongo_engine,)
    reports = []
    for engine in engines:
        figures: list[dict] = []
        # Each scenario on a fresh stack of exactly the services it names: on a two-core
        # machine, consumers another scenario needed would take the CPU a till's figures
        # measure, and one scenario's data (a 5,000-sale history) would weigh on the next.
        # `system.store_day` and `system.soak` measure everything together.
        for item in chosen:
            with tempfile.TemporaryDirectory(prefix="kugelpos-bench-") as scratch:
                base_dir = (
                    (args.keep_logs / engine / item.name) if args.keep_logs else Path(scratch)
                )
                stack = Stack(
                    base_dir,
                    services=[service(name) for name in item.services],
                    mongo_engine=engine,
                    replicas_per_service=item.replicas,
                    die_with_parent=True,
                    # Twice the processes start at once on the same two cores.
                    startup_timeout=30.0 * item.replicas,
                )
                try:
                    stack.start()
                    figures.extend(asyncio.run(_run(stack, [item], args)))
                except StackError as exc:
                    print(f"error: {exc}", file=sys.stderr)
                    return 1
                finally:
                    stack.stop()
        reports.append({"stack": {"mongo_engine": engine}, "results": figures})
    print(json.dumps(reports[0] if len(reports) == 1 else {"engines": reports}, indent=2))
    failed = any(entry["errors"] for report in reports for entry in report["results"])
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
