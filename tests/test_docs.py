"""The docs stand alone: README.md and docs/*.md point at nothing outside the repository (no
path into a sibling specification folder, no section number of a document the repository does
not hold), and every relative link, with its #anchor, lands on a file and a heading here."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
# A section sign with a number (`§5.3`, `§B4`) names a section of some other document: these
# pages number their own sections and link to them instead.
OUTSIDE = re.compile(
    r"§\s*[A-Z]?\d|\.\./shared/|shared/(spec|contract)/"
    r"|report-journal-events|master-data-stock|account-terminal-commons|cart spec|the spec\b"
)
FENCE = re.compile(r"^```.*?^```", re.M | re.S)
LINK = re.compile(r"\]\(([^)\s]+)\)")


def _slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def _anchors(page: Path) -> set[str]:
    found: set[str] = set()
    seen: dict[str, int] = {}
    for match in re.finditer(r"^#{1,6}\s+(.+)$", FENCE.sub("", page.read_text()), re.M):
        slug = _slug(match.group(1))
        count = seen.get(slug, 0)
        seen[slug] = count + 1
        found.add(slug if count == 0 else f"{slug}-{count}")
    return found


def _links(page: Path) -> list[str]:
    return [
        target
        for target in LINK.findall(FENCE.sub("", page.read_text()))
        if not re.match(r"[a-z][a-z0-9+.-]*:", target)  # http:, mailto: ...
    ]


def test_the_pages_are_there():
    assert len(PAGES) >= 10 and all(page.is_file() for page in PAGES)


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.name)
def test_no_reference_points_outside_the_repository(page: Path):
    hits = [
        f"{page.name}:{number}: {line.strip()[:100]}"
        for number, line in enumerate(page.read_text().splitlines(), 1)
        if OUTSIDE.search(line)
    ]
    assert hits == []


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.name)
def test_every_relative_link_and_anchor_resolves(page: Path):
    broken = []
    for target in _links(page):
        path, _, anchor = target.partition("#")
        dest = (page.parent / path).resolve() if path else page
        if not dest.exists():
            broken.append(f"{target}: no such file")
        elif anchor and dest.suffix == ".md" and anchor not in _anchors(dest):
            broken.append(f"{target}: no heading with that anchor")
    assert broken == []


def test_the_checks_can_fail(tmp_path: Path):
    page = tmp_path / "page.md"
    page.write_text("# Title\n\n## 2. Lines\n\nSee [lines](#2-lines) and [x](#nowhere).\n")
    assert _anchors(page) == {"title", "2-lines"}
    assert _links(page) == ["#2-lines", "#nowhere"]
    for line in ("as §5.3 says", "see ../shared/spec/cart.md", "report-journal-events §2"):
        assert OUTSIDE.search(line), line
    assert not OUTSIDE.search(
        "the Compose Specification schema (`deploy/schemas/compose-spec.json`)"
    )
