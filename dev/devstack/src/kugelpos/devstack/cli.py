"""`python -m kugelpos.devstack run|stop|status` (make run / make stop)."""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from kugelpos.devstack.paths import default_data_dir
from kugelpos.devstack.ports import PortInUseError
from kugelpos.devstack.stack import (
    SIDECAR_MODULE,
    STATE_FILE,
    Stack,
    StackError,
    recorded_status,
    stop_recorded,
)
from kugelpos.registry.paths import repo_root
from kugelpos.registry.services import SERVICES, ServiceSpec, service


def _module_exists(dotted: str) -> bool:
    try:
        return importlib.util.find_spec(dotted) is not None
    except ModuleNotFoundError:
        return False


def _pick_services(names: str | None) -> list[ServiceSpec]:
    if names:
        return [service(name.strip()) for name in names.split(",") if name.strip()]
    # While the services are being built, run the ones whose code exists and say so.
    chosen = []
    for spec in SERVICES:
        if _module_exists(spec.asgi.partition(":")[0]):
            chosen.append(spec)
        else:
            print(f"note: skipping {spec.name}: {spec.asgi} not importable yet", file=sys.stderr)
    return chosen


def _relative(path: Path, root: Path) -> str:
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)


def _print_table(data_dir: Path, root: Path) -> bool:
    """Print what runs where; True if every recorded component is alive."""
    rows = recorded_status(data_dir)
    if not rows:
        print(f"no stack recorded under {data_dir}")
        return False
    try:
        urls: dict[str, str] = json.loads((data_dir / STATE_FILE).read_text()).get("urls", {})
    except (OSError, ValueError):
        urls = {}
    table = [("component", "state", "pid", "address", "log")]
    for row in rows:
        table.append(
            (
                row.name,
                "running" if row.alive else "stopped",
                "-" if row.pid is None or not row.alive else str(row.pid),
                urls.get(row.name, "-" if row.port is None else f"127.0.0.1:{row.port}"),
                _relative(row.log_path, root),
            )
        )
    widths = [max(len(line[i]) for line in table) for i in range(len(table[0]))]
    for line in table:
        cells = (cell.ljust(width) for cell, width in zip(line, widths, strict=True))
        print("  ".join(cells).rstrip())
    return all(row.alive for row in rows)


def _run(args: argparse.Namespace, root: Path, data_dir: Path) -> int:
    current = recorded_status(data_dir)
    if any(row.alive for row in current):
        if all(row.alive for row in current):
            print("stack already running:")
            _print_table(data_dir, root)
            return 0
        print("part of the stack is running; `make stop` first, then `make run`:")
        _print_table(data_dir, root)
        return 1
    include_sidecar = not args.no_sidecar
    if include_sidecar and not _module_exists(f"{SIDECAR_MODULE}.__main__"):
        print(f"note: {SIDECAR_MODULE} is not runnable yet; starting without it", file=sys.stderr)
        include_sidecar = False
    stack = Stack.development(
        data_dir, services=_pick_services(args.services), include_sidecar=include_sidecar
    )
    try:
        stack.start()
    except (PortInUseError, StackError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    _print_table(data_dir, root)
    if os.environ.get("MONGODB_URI"):
        print("MongoDB: external (MONGODB_URI)")
    print(f"stop with `make stop`; secrets in {_relative(data_dir, root)}/secret")
    return 0


def _stop(data_dir: Path) -> int:
    stopped = stop_recorded(data_dir)
    print(f"stopped: {', '.join(stopped)}" if stopped else "nothing was running")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m kugelpos.devstack")
    parser.add_argument("--data-dir", type=Path, help="logs, pids and data (default: <repo>/.data)")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="start the stack in the background and return")
    run.add_argument("--services", help="comma-separated subset of services (default: all)")
    run.add_argument("--no-sidecar", action="store_true", help="do not start the Dapr sidecar")
    commands.add_parser("stop", help="stop what `run` started")
    commands.add_parser("status", help="show what runs on which port")
    args = parser.parse_args(argv)

    root = repo_root()
    data_dir = (args.data_dir or default_data_dir(root)).resolve()
    if args.command == "run":
        return _run(args, root, data_dir)
    if args.command == "stop":
        return _stop(data_dir)
    return 0 if _print_table(data_dir, root) else 1


if __name__ == "__main__":
    raise SystemExit(main())
