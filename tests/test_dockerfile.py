"""The one Dockerfile builds every registered service: multi-stage, uv with the lock file, the
service chosen by the SERVICE_NAME build argument, a non-root user, a HEALTHCHECK on /health,
and no secret in any layer. Checked statically (no Docker engine needed)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from kugelpos.registry.services import SERVICES

ROOT = Path(__file__).resolve().parents[1]
DOCKERFILE = ROOT / "Dockerfile"
SECRET_NAMES = re.compile(r"SECRET|PASSWORD|TOKEN|API_KEY|MONGODB_URI", re.IGNORECASE)


def instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    result: list[tuple[str, str]] = []
    pending = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if pending and line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1].rstrip() + " "
            continue
        line = pending + line
        pending = ""
        keyword, _, args = line.partition(" ")
        result.append((keyword.upper(), args.strip()))
    assert not pending, "dangling line continuation"
    return result


def stages(parsed: list[tuple[str, str]]) -> list[list[tuple[str, str]]]:
    found: list[list[tuple[str, str]]] = []
    for keyword, args in parsed:
        if keyword == "FROM":
            found.append([])
        if found:
            found[-1].append((keyword, args))
    return found


PARSED = instructions(DOCKERFILE.read_text())
STAGES = stages(PARSED)
FINAL = STAGES[-1]


def _args(stage, keyword: str) -> list[str]:
    return [args for kw, args in stage if kw == keyword]


def test_parser_joins_continuations_and_skips_comments():
    parsed = instructions("# c\nFROM a AS b\nRUN x \\\n  # inside\n  && y\nUSER 1\n")
    assert parsed == [("FROM", "a AS b"), ("RUN", "x && y"), ("USER", "1")]


def test_no_per_service_dockerfiles_remain():
    assert not list((ROOT / "services").glob("*/Dockerfile*"))


def test_multi_stage_and_final_stage_copies_only_the_environment():
    assert len(STAGES) >= 2
    build_stage = STAGES[0][0][1].split()
    assert build_stage[-2].upper() == "AS"
    copies = _args(FINAL, "COPY")
    assert copies, "the final stage copies the built environment"
    assert all(c.startswith(f"--from={build_stage[-1]} ") for c in copies), copies


def test_uv_syncs_the_selected_service_from_the_lock_file():
    runs = " ".join(_args(STAGES[0], "RUN"))
    makefile = (ROOT / "Makefile").read_text()
    uv_pin = re.search(r'"uv==([0-9.]+)"', makefile).group(1)
    assert f'"uv=={uv_pin}"' in runs, "the image uses the same uv as make install"
    sync = re.search(r"uv sync ([^;&]*)", runs).group(1)
    assert "--frozen" in sync and "--no-dev" in sync
    assert '--package "kugelpos-${SERVICE_NAME}"' in sync
    assert "SERVICE_NAME" in _args(STAGES[0], "ARG")
    assert any("SERVICE_NAME=${SERVICE_NAME}" in env for env in _args(FINAL, "ENV"))


def test_runs_as_a_non_root_user():
    users = _args(FINAL, "USER")
    assert users, "the final stage sets USER"
    assert users[-1].split(":")[0] not in {"root", "0"}
    keywords = [kw for kw, _ in FINAL]
    assert keywords.index("USER") > max(i for i, kw in enumerate(keywords) if kw == "COPY")


def test_healthcheck_probes_health():
    checks = _args(FINAL, "HEALTHCHECK")
    assert len(checks) == 1 and "/health" in checks[0] and "CMD" in checks[0]


def test_no_secret_in_any_layer():
    for keyword, args in PARSED:
        if keyword in {"ENV", "ARG", "LABEL"}:
            assert not SECRET_NAMES.search(args), f"{keyword} {args}"
        if keyword in {"COPY", "ADD"}:
            assert ".env" not in args.split(), args
    ignored = {line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()}
    assert {".env", ".git", ".venv", ".data"} <= ignored


@pytest.mark.parametrize("spec", SERVICES, ids=lambda spec: spec.name)
def test_the_image_can_build_and_start_each_registered_service(spec):
    """The build installs package kugelpos-<name>; CMD starts kugelpos.<name_>.main:app."""
    project = tomllib.loads((ROOT / "services" / spec.name / "pyproject.toml").read_text())
    assert project["project"]["name"] == f"kugelpos-{spec.name}"
    assert spec.asgi == f"kugelpos.{spec.name.replace('-', '_')}.main:app"
    command = _args(FINAL, "CMD")[-1]
    assert "kugelpos.$(echo" in command and "tr - _).main:app" in command
