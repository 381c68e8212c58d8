"""Background processes with log files and pid records that can be stopped from anywhere.

A pid file alone is not enough to stop a process safely: after a reboot or a crash the number
may belong to an unrelated program. Each record therefore keeps the exact argv, the executable
and the kernel start time of the process, and nothing is signalled unless all still match.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

_POLL_SECONDS = 0.05
_PR_SET_PDEATHSIG = 1


@dataclass(frozen=True)
class ProcessRecord:
    """What a pid file holds: enough to recognise the process later."""

    name: str
    pid: int
    argv: tuple[str, ...]
    start_ticks: int | None
    exe: str | None

    def dump(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(asdict(self)))
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path) -> ProcessRecord | None:
        try:
            raw = json.loads(path.read_text())
            return cls(
                name=str(raw["name"]),
                pid=int(raw["pid"]),
                argv=tuple(str(arg) for arg in raw["argv"]),
                start_ticks=None if raw.get("start_ticks") is None else int(raw["start_ticks"]),
                exe=None if raw.get("exe") is None else str(raw["exe"]),
            )
        except (OSError, ValueError, KeyError, TypeError):
            # A missing or mangled pid file identifies nothing; never guess.
            return None


def _proc_stat(pid: int) -> tuple[str, int] | None:
    """(state, start time in clock ticks) from /proc, or None when the pid is gone."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name sits in parentheses and may itself contain spaces or ')'.
    fields = raw[raw.rindex(")") + 2 :].split()
    return fields[0], int(fields[19])


def _proc_argv(pid: int) -> tuple[str, ...] | None:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return None
    # Arguments are NUL-terminated; keep empty ones (redis gets `--save ""`).
    return tuple(part.decode(errors="replace") for part in raw.removesuffix(b"\0").split(b"\0"))


def _ps_argv(pid: int) -> str | None:
    """Fallback for systems without /proc (macOS): the command line as one string."""
    result = subprocess.run(
        ["ps", "-p", str(pid), "-o", "command="], capture_output=True, text=True, check=False
    )
    return result.stdout.strip() or None


def _proc_exe(pid: int) -> str | None:
    try:
        return os.readlink(f"/proc/{pid}/exe")
    except OSError:
        return None


def start_ticks(pid: int) -> int | None:
    stat = _proc_stat(pid)
    return None if stat is None else stat[1]


def is_alive(record: ProcessRecord) -> bool:
    """True only if the recorded process still runs and is the one we started."""
    if Path("/proc/self/stat").exists():
        stat = _proc_stat(record.pid)
        if stat is None or stat[0] in {"Z", "X"}:
            return False
        if record.start_ticks is not None and stat[1] != record.start_ticks:
            return False
        if record.exe is not None and _proc_exe(record.pid) != record.exe:
            return False
        argv = _proc_argv(record.pid)
        if argv == ("",) and record.start_ticks is not None:
            # Just exec'd: for a moment the kernel shows no argv yet (seen under load right
            # after Popen returned). Its start time matched, so it is still the one we started.
            return True
        return argv == record.argv
    command = _ps_argv(record.pid)
    return command is not None and command == " ".join(record.argv)


def _parent_death_hook() -> Callable[[], None] | None:
    """A pre-exec hook that makes Linux SIGTERM the child when the launcher dies.

    libc is resolved here, in the parent: loading libraries between fork and exec can deadlock.
    """
    if not sys.platform.startswith("linux"):
        return None
    prctl = ctypes.CDLL(None, use_errno=True).prctl

    def hook() -> None:
        prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)

    return hook


@dataclass
class ManagedProcess:
    """A process this launcher started: its record, plus the Popen handle while we own it."""

    record: ProcessRecord
    log_path: Path
    pid_path: Path
    popen: subprocess.Popen[bytes] | None = None

    def running(self) -> bool:
        if self.popen is not None:
            return self.popen.poll() is None
        return is_alive(self.record)

    def exit_code(self) -> int | None:
        return None if self.popen is None else self.popen.poll()


def spawn(
    name: str,
    argv: Sequence[str],
    *,
    env: Mapping[str, str],
    log_path: Path,
    pid_path: Path,
    cwd: Path | None = None,
    die_with_parent: bool = False,
) -> ManagedProcess:
    """Start argv in its own session (so the whole group can be signalled) logging to log_path.

    die_with_parent asks Linux to SIGTERM the child if the launcher dies without cleaning up
    (a killed test run); `make run` leaves it off because its processes must outlive the CLI.
    """
    log_path.parent.mkdir(parents=True, exist_ok=True)
    preexec = _parent_death_hook() if die_with_parent else None
    with log_path.open("ab") as log:
        popen = subprocess.Popen(
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=dict(env),
            cwd=cwd,
            start_new_session=True,
            # preexec_fn only calls prctl (no locks, no allocation), so it is fork-safe.
            preexec_fn=preexec,
        )
    # Popen returns only after exec succeeded, so /proc already shows the child's own argv,
    # executable and start time.
    record = ProcessRecord(
        name=name,
        pid=popen.pid,
        argv=tuple(argv),
        start_ticks=start_ticks(popen.pid),
        exe=_proc_exe(popen.pid),
    )
    record.dump(pid_path)
    return ManagedProcess(record=record, log_path=log_path, pid_path=pid_path, popen=popen)


def _group_exists(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _wait_gone(process: ManagedProcess, deadline: float) -> bool:
    while time.monotonic() < deadline:
        if process.popen is not None:
            if process.popen.poll() is not None:
                return True
        elif not is_alive(process.record):
            return True
        time.sleep(_POLL_SECONDS)
    return False


def terminate(process: ManagedProcess, grace_seconds: float = 5.0) -> bool:
    """SIGTERM the process group, SIGKILL it after the grace period. Returns True if signalled.

    Refuses (returns False) when the pid no longer belongs to the recorded process, so a stale
    pid file can never take down an unrelated program.
    """
    record = process.record
    exited = process.popen is not None and process.popen.poll() is not None
    if exited or not is_alive(record):
        signalled = False
    else:
        # The child was started with start_new_session, so its pid is its group id.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(record.pid, signal.SIGTERM)
        if not _wait_gone(process, time.monotonic() + grace_seconds):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(record.pid, signal.SIGKILL)
            _wait_gone(process, time.monotonic() + grace_seconds)
        elif _group_exists(record.pid):
            # The leader is gone but helpers it forked linger in our group; a group id
            # cannot be reused while any member lives, so this only reaches our children.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(record.pid, signal.SIGKILL)
        signalled = True
    if process.popen is not None:
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.popen.wait(timeout=grace_seconds)
    process.pid_path.unlink(missing_ok=True)
    return signalled


def kill(process: ManagedProcess, wait_seconds: float = 5.0) -> bool:
    """SIGKILL the process group at once, as a crash would: no shutdown hook runs. Returns
    True if signalled; refuses a pid that no longer belongs to the recorded process."""
    exited = process.popen is not None and process.popen.poll() is not None
    if exited or not is_alive(process.record):
        signalled = False
    else:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.record.pid, signal.SIGKILL)
        _wait_gone(process, time.monotonic() + wait_seconds)
        signalled = True
    if process.popen is not None:
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.popen.wait(timeout=wait_seconds)
    process.pid_path.unlink(missing_ok=True)
    return signalled


def tail(path: Path, lines: int = 40) -> str:
    """The last lines of a log file, for error messages."""
    try:
        data = path.read_bytes()
    except OSError:
        return f"(no log at {path})"
    text = data[-64_000:].decode(errors="replace")
    return "\n".join(text.splitlines()[-lines:])
