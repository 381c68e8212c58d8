"""Where `make run` keeps its data: .data/ under the repository (gitignored)."""

from __future__ import annotations

from pathlib import Path


def default_data_dir(root: Path) -> Path:
    return root / ".data"
