"""CPU time each process of a stack spends per sale over a timed window, from /proc (Linux).

`utime + stime` of `/proc/<pid>/stat` (fields 14 and 15) count the clock ticks a process has
run, every thread included. Read before and after a window, their difference over the sales
billed in it is what one sale cost that process: the services' own cost apart from the local
stand-ins (the embedded MongoDB wire servers, the sidecar, Redis) and from the load generator
itself, all sharing the same cores. Children are not counted: no component hands its work to
a child process (Redis forks only for a background save).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path

from kugelpos.devstack.stack import (
    FRONT,
    REDIS,
    SIDECAR,
    is_mongo,
    is_mongo_link,
    is_replica_sidecar,
)

TICKS_PER_SECOND = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
LOAD_GENERATOR = "bench"  # the benchmark's own process: tills, watchers, HTTP client
KINDS = ("services", "embedded MongoDB", "sidecar", "Redis", "front", "load generator")

# pid -> the text of its /proc/<pid>/stat, or None when it cannot be read (gone, not Linux).
StatReader = Callable[[int], str | None]
# name -> (pid, utime + stime in ticks), for the processes that could be read.
Sample = dict[str, tuple[int, int]]


def read_proc_stat(pid: int) -> str | None:
    try:
        return Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None


def cpu_ticks(stat: str) -> int:
    """utime + stime, in clock ticks, from the text of /proc/<pid>/stat."""
    # The command name (field 2) sits in parentheses and may itself hold spaces or ')'; the
    # fields after it start with field 3 (state), so utime (14) and stime (15) are 11 and 12.
    fields = stat[stat.rindex(")") + 2 :].split()
    return int(fields[11]) + int(fields[12])


def sample(pids: Mapping[str, int], read: StatReader = read_proc_stat) -> Sample:
    found: Sample = {}
    for name, pid in pids.items():
        stat = read(pid)
        if stat is not None:
            found[name] = (pid, cpu_ticks(stat))
    return found


def kind(name: str) -> str:
    if name == LOAD_GENERATOR:
        return "load generator"
    if is_mongo(name):
        return "embedded MongoDB"
    if name == SIDECAR or is_replica_sidecar(name):
        return "sidecar"
    if name == REDIS:
        return "Redis"
    if name == FRONT or is_mongo_link(name):
        return "front"  # the round-robin front of a stack with replicas (a Kubernetes Service)
    return "services"


def ms_per_sale(
    before: Sample, after: Sample, sales: int, ticks_per_second: int = TICKS_PER_SECOND
) -> dict[str, float | None]:
    """CPU milliseconds per sale of each process sampled before the window, in that order.

    None where the window says nothing: no sale billed, or a process that was gone (or had
    been restarted, a new pid) at the end."""
    figures: dict[str, float | None] = {}
    for name, (pid, ticks) in before.items():
        end = after.get(name)
        if sales <= 0 or end is None or end[0] != pid:
            figures[name] = None
        else:
            figures[name] = round((end[1] - ticks) * 1000 / ticks_per_second / sales, 2)
    return figures


def by_kind(per_process: Mapping[str, float | None]) -> dict[str, float | None]:
    """The per-sale figures added up by kind (services, embedded MongoDB, ...); a kind with a
    process that could not be measured is None rather than a sum that leaves it out."""
    totals: dict[str, float | None] = {}
    for name, value in per_process.items():
        group = kind(name)
        if group in totals and totals[group] is None:
            continue
        totals[group] = None if value is None else round((totals.get(group) or 0.0) + value, 2)
    return {group: totals[group] for group in KINDS if group in totals}


def cpu_figures(before: Sample, after: Sample, sales: int) -> dict[str, object]:
    """What `system.checkout` prints: ms of CPU per billed sale, per process and per kind."""
    per_process = ms_per_sale(before, after, sales)
    return {"sales": sales, "per_process": per_process, "by_kind": by_kind(per_process)}
