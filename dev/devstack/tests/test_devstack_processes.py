import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kugelpos.devstack.processes import (
    ManagedProcess,
    ProcessRecord,
    is_alive,
    kill,
    spawn,
    terminate,
)

# Every test here starts processes itself (what the launcher manages).
pytestmark = pytest.mark.needs_stack

SLEEP = [sys.executable, "-c", "import time; time.sleep(60)"]


def _spawn(tmp_path: Path, argv: list[str], name: str = "sleeper") -> ManagedProcess:
    return spawn(
        name,
        argv,
        env=dict(os.environ),
        log_path=tmp_path / "logs" / f"{name}.log",
        pid_path=tmp_path / "pids" / f"{name}.pid",
    )


def _gone(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return True
    return state == "Z"


def test_spawn_records_and_terminate_stops(tmp_path):
    process = _spawn(tmp_path, SLEEP)
    record = ProcessRecord.load(process.pid_path)
    assert record == process.record
    assert record.argv == tuple(SLEEP)
    assert is_alive(record)
    assert terminate(process, grace_seconds=5)
    assert not process.running()
    assert not process.pid_path.exists()


def test_stop_from_pid_file_alone(tmp_path):
    process = _spawn(tmp_path, SLEEP)
    # Another process only has the pid file, no Popen handle.
    other = ManagedProcess(ProcessRecord.load(process.pid_path), process.log_path, process.pid_path)
    assert terminate(other, grace_seconds=5)
    process.popen.wait(timeout=5)


def test_stale_pid_file_never_signals_an_unrelated_process(tmp_path):
    unrelated = subprocess.Popen(SLEEP)
    try:
        pid_path = tmp_path / "pids" / "redis.pid"
        # Same pid, but recorded for a different command line (a pid reused after a reboot).
        stale = ProcessRecord("redis", unrelated.pid, ("valkey-server", "--port", "1"), None, None)
        stale.dump(pid_path)
        assert not is_alive(stale)
        assert not terminate(ManagedProcess(stale, tmp_path / "x.log", pid_path), 1)
        assert unrelated.poll() is None
        assert not pid_path.exists()

        # Same pid and argv but another start time: still not ours.
        reused = ProcessRecord("redis", unrelated.pid, tuple(SLEEP), 1, None)
        assert not is_alive(reused)
        assert not terminate(ManagedProcess(reused, tmp_path / "x.log", pid_path), 1)
        assert unrelated.poll() is None
    finally:
        unrelated.kill()
        unrelated.wait()


def test_group_children_are_stopped_too(tmp_path):
    child_pid_file = tmp_path / "child.pid"
    script = (
        "import subprocess, sys, time, pathlib;"
        f"c = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)']);"
        f"pathlib.Path({str(child_pid_file)!r}).write_text(str(c.pid));"
        "time.sleep(60)"
    )
    process = _spawn(tmp_path, [sys.executable, "-c", script])
    deadline = time.monotonic() + 10
    while not child_pid_file.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    child = int(child_pid_file.read_text())
    assert terminate(process, grace_seconds=5)
    deadline = time.monotonic() + 5
    while not _gone(child) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _gone(child)


def test_sigkill_after_grace_when_sigterm_is_ignored(tmp_path):
    stubborn = (
        "import signal, time, sys;"
        "signal.signal(signal.SIGTERM, signal.SIG_IGN);"
        "print('ready', flush=True);"
        "time.sleep(60)"
    )
    process = _spawn(tmp_path, [sys.executable, "-c", stubborn])
    deadline = time.monotonic() + 10
    while b"ready" not in process.log_path.read_bytes() and time.monotonic() < deadline:
        time.sleep(0.05)
    started = time.monotonic()
    assert terminate(process, grace_seconds=0.5)
    assert process.popen.returncode == -9
    assert time.monotonic() - started < 5


def test_kill_is_sigkill_at_once_and_runs_no_shutdown_hook(tmp_path):
    """A crash, not a stop: the SIGTERM handler that a graceful stop would run never runs."""
    graceful = (
        "import signal, time, sys;"
        "signal.signal(signal.SIGTERM, lambda *a: (print('graceful', flush=True), sys.exit(0)));"
        "print('ready', flush=True);"
        "time.sleep(60)"
    )
    process = _spawn(tmp_path, [sys.executable, "-c", graceful])
    deadline = time.monotonic() + 10
    while b"ready" not in process.log_path.read_bytes() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert kill(process)
    assert process.popen.returncode == -9
    assert b"graceful" not in process.log_path.read_bytes()
    assert not process.pid_path.exists()
    assert not kill(process)  # already gone: nothing signalled


def test_a_process_caught_mid_exec_is_still_ours(tmp_path, monkeypatch):
    """Right after Popen returns, /proc/<pid>/cmdline can read empty for a moment (seen under
    load): the start time and executable still identify the process; a different start time
    (a reused pid) still does not pass."""
    from dataclasses import replace

    from kugelpos.devstack import processes

    process = _spawn(tmp_path, SLEEP)
    try:
        monkeypatch.setattr(processes, "_proc_argv", lambda pid: ("",))
        assert is_alive(process.record)
        assert not is_alive(replace(process.record, start_ticks=process.record.start_ticks - 1))
    finally:
        monkeypatch.undo()
        assert terminate(process, grace_seconds=5)
