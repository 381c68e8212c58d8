"""`python -m kugelpos.devstack.idle [--seconds 60]`: what a running `make run` stack costs when
nobody uses it.

Reads every process recorded under `.data/pids/` (the launcher's records, checked against the
kernel's start time so a reused pid is not counted), takes user + system CPU time from
`/proc/<pid>/stat` before and after the window, and prints each process's share of one core
and the total. The target for an idle stack is under 1 % of one core in total.
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Sequence
from pathlib import Path

from kugelpos.devstack.paths import default_data_dir
from kugelpos.devstack.processes import ProcessRecord
from kugelpos.registry.paths import repo_root

_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float | None:
    """utime + stime of a process, or None when it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / _TICKS


def start_ticks(pid: int) -> int | None:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19])
    except (OSError, IndexError, ValueError):
        return None


def recorded(data_dir: Path) -> dict[str, int]:
    """Component name -> pid of the live processes the launcher recorded."""
    found = {}
    for path in sorted((data_dir / "pids").glob("*.pid")):
        record = ProcessRecord.load(path)
        if record is None:
            continue
        if record.start_ticks is not None and start_ticks(record.pid) != record.start_ticks:
            continue
        found[record.name] = record.pid
    return found


def measure(data_dir: Path, seconds: float) -> tuple[dict[str, float], float]:
    """CPU seconds per component over the window, and the window's length."""
    pids = recorded(data_dir)
    before = {name: cpu_seconds(pid) for name, pid in pids.items()}
    started = time.monotonic()
    time.sleep(seconds)
    elapsed = time.monotonic() - started
    used = {}
    for name, pid in pids.items():
        after = cpu_seconds(pid)
        if after is not None and before[name] is not None:
            used[name] = after - before[name]  # type: ignore[operator]
    return used, elapsed


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m kugelpos.devstack.idle")
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--data-dir", type=Path, default=None)
    args = parser.parse_args(argv)
    data_dir = args.data_dir or default_data_dir(repo_root())
    used, elapsed = measure(data_dir, args.seconds)
    if not used:
        print(f"no running process recorded under {data_dir / 'pids'} (make run first)")
        return 1
    for name, seconds in sorted(used.items()):
        print(f"{name:18} {seconds:6.2f} s  {100 * seconds / elapsed:5.2f} % of one core")
    total = sum(used.values())
    share = 100 * total / elapsed
    print(f"{'total':18} {total:6.2f} s  {share:5.2f} % of one core over {elapsed:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
