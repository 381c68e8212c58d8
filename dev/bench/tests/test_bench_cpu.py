"""CPU milliseconds per sale from /proc/<pid>/stat: parsing, the per-sale arithmetic on a fake
/proc, and one real reading of this process."""

from __future__ import annotations

import os
import time

import pytest

from kugelpos.bench import cpu


def _stat(pid: int, comm: str, utime: int, stime: int) -> str:
    """A /proc/<pid>/stat line as Linux writes it (52 fields; 14 utime, 15 stime)."""
    fields = [str(pid), f"({comm})", "S", "1", str(pid), str(pid), "0", "-1", "4194560"]
    fields += ["2193", "0", "0", "0", str(utime), str(stime), "7", "3", "20", "0", "3", "0"]
    fields += ["81817", "123456789", "4567"] + ["0"] * 28
    assert len(fields) == 52
    return " ".join(fields) + "\n"


def test_utime_and_stime_are_read_after_the_command_name() -> None:
    assert cpu.cpu_ticks(_stat(42, "python", 1234, 56)) == 1290
    # A command name with spaces and a ')' does not shift the fields.
    assert cpu.cpu_ticks(_stat(42, "uvicorn) x (1", 10, 5)) == 15
    # cutime/cstime (16, 17: children's time) are not counted.
    assert cpu.cpu_ticks(_stat(42, "redis", 0, 0)) == 0


class FakeProc:
    """A fake /proc: ticks per pid, settable between samples; a missing pid reads as gone."""

    def __init__(self, **ticks: tuple[int, int]) -> None:
        self.ticks = {pid: value for pid, value in ((int(k[1:]), v) for k, v in ticks.items())}

    def read(self, pid: int) -> str | None:
        if pid not in self.ticks:
            return None
        utime, stime = self.ticks[pid]
        return _stat(pid, f"p{pid}", utime, stime)


def test_ms_per_sale_per_process_and_by_kind() -> None:
    pids = {
        "redis": 10,
        "mongo-cart": 11,
        "mongo-report": 12,
        "sidecar": 13,
        "cart": 14,
        "report": 15,
        "bench": 16,
    }
    proc = FakeProc(
        p10=(100, 50),
        p11=(0, 0),
        p12=(40, 0),
        p13=(500, 100),
        p14=(1000, 0),
        p15=(7, 3),
        p16=(0, 0),
    )
    before = cpu.sample(pids, proc.read)
    # 40 sales: cart ran 200 ticks (2 s at 100 Hz) = 50 ms a sale, and so on.
    proc.ticks.update(
        {10: (104, 50), 11: (60, 20), 12: (40, 0), 13: (560, 140), 14: (1150, 50), 15: (27, 3)}
    )
    proc.ticks[16] = (80, 0)
    after = cpu.sample(pids, proc.read)
    per_process = cpu.ms_per_sale(before, after, sales=40, ticks_per_second=100)
    assert per_process == {
        "redis": 1.0,
        "mongo-cart": 20.0,
        "mongo-report": 0.0,
        "sidecar": 25.0,
        "cart": 50.0,
        "report": 5.0,
        "bench": 20.0,
    }
    assert list(per_process) == list(pids)  # the stack's order
    assert cpu.by_kind(per_process) == {
        "services": 55.0,
        "embedded MongoDB": 20.0,
        "sidecar": 25.0,
        "Redis": 1.0,
        "load generator": 20.0,
    }


def test_a_window_that_says_nothing_gives_none() -> None:
    proc = FakeProc(p1=(10, 0), p2=(10, 0), p3=(10, 0))
    pids = {"cart": 1, "stock": 2, "mongo-stock": 3}
    before = cpu.sample(pids, proc.read)
    del proc.ticks[2]  # stock died during the window
    proc.ticks[4] = (0, 0)  # and its wire server was restarted: another pid
    after = cpu.sample(pids | {"mongo-stock": 4}, proc.read)
    per_process = cpu.ms_per_sale(before, after, sales=10, ticks_per_second=100)
    assert per_process == {"cart": 0.0, "stock": None, "mongo-stock": None}
    # A kind with a process it could not measure is not summed without it.
    assert cpu.by_kind(per_process) == {"services": None, "embedded MongoDB": None}
    assert set(cpu.ms_per_sale(before, before, sales=0).values()) == {None}


def test_kinds_of_the_stack_components() -> None:
    kinds = {
        name: cpu.kind(name)
        for name in ("cart", "mongo-cart", "mongo", "sidecar", "sidecar.stock.2", "redis", "bench")
    }
    assert kinds == {
        "cart": "services",
        "mongo-cart": "embedded MongoDB",
        "mongo": "embedded MongoDB",
        "sidecar": "sidecar",
        "sidecar.stock.2": "sidecar",
        "redis": "Redis",
        "bench": "load generator",
    }


@pytest.mark.skipif(not os.path.exists("/proc/self/stat"), reason="no /proc (not Linux)")
def test_a_real_process_is_read_from_proc() -> None:
    pids = {"bench": os.getpid()}
    before = cpu.sample(pids)
    deadline = time.process_time() + 0.3
    while time.process_time() < deadline:  # burn 0.3 s of CPU in this process
        pass
    after = cpu.sample(pids)
    (spent,) = cpu.ms_per_sale(before, after, sales=1).values()
    assert spent is not None and 250 <= spent <= 1000


def test_the_processes_of_a_stack_with_replicas_are_told_apart() -> None:
    assert [
        cpu.kind(name)
        for name in ("cart", "cart.2", "sidecar.cart.2", "mongo-cart", "front", "link.cart.2")
    ] == ["services", "services", "sidecar", "embedded MongoDB", "front", "front"]
