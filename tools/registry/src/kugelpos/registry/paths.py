"""Where the repository is, so the deploy files, `make run` and the tests agree on it."""

from __future__ import annotations

from pathlib import Path


def _is_workspace_root(path: Path) -> bool:
    pyproject = path / "pyproject.toml"
    try:
        return "[tool.uv.workspace]" in pyproject.read_text()
    except OSError:
        return False


def repo_root(start: Path | None = None) -> Path:
    """The uv workspace root above `start`, this package's source, or the working directory."""
    candidates = [start] if start is not None else [Path(__file__).resolve(), Path.cwd()]
    for origin in candidates:
        for path in (origin, *origin.parents):
            if _is_workspace_root(path):
                return path
    raise FileNotFoundError(
        "cannot find the workspace root (a pyproject.toml with [tool.uv.workspace])"
    )
