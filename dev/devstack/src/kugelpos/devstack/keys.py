"""Per-stack secrets: random each run for tests, kept in .data/ for make run.

Services refuse default secrets outside development, and tokens signed before a restart must
stay valid after it, so `make run` stores the values it generated once.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path


def new_secret() -> str:
    return secrets.token_hex(32)


def stored_secret(path: Path) -> str:
    """Read the secret in `path`, creating it (mode 0600) on first use."""
    try:
        value = path.read_text().strip()
    except FileNotFoundError:
        value = ""
    if value:
        return value
    value = new_secret()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(value + "\n")
    return value
