"""The role matrix (docs/access.md) is the services' own policies, and every write has one.

Pure: the seven apps are built in process and their OpenAPI documents read; no stack."""

from __future__ import annotations

from kugelpos.registry.paths import repo_root
from kugelpos.testkit.access_matrix import render, write_operations


def test_every_write_operation_declares_who_may_call_it() -> None:
    rows = write_operations()
    undeclared = [
        f"{r.service} {r.method} {r.path}" for r in rows if r.kind == "policy" and not r.callers
    ]
    assert not undeclared, (
        "write operations without a policy (commons auth.access.allow): " + ", ".join(undeclared)
    )
    assert len(rows) >= 90, len(rows)  # the seven services' writes were really read


def test_no_write_is_open_to_a_clerk_or_moves_money_outside_the_cart() -> None:
    """The rules the issue asks for, checked on the declarations themselves: a plain user
    token writes nothing; the direct transaction intakes take no till; only tills (the cart's
    flows) create carts, pay and bill."""
    rows = [r for r in write_operations() if r.callers]
    clerk = [f"{r.service} {r.method} {r.path}" for r in rows if "user" in r.callers]
    assert not clerk, clerk
    intakes = [r for r in rows if r.path.endswith("/terminals/{terminal_no}/transactions")]
    assert {r.service for r in intakes} == {"journal", "report"}
    for row in intakes:
        assert row.callers == {"admin", "service"}, row
    selling = [r for r in rows if r.service == "cart" and r.path.startswith("/api/v1/carts")]
    assert selling and all(r.callers == {"the till itself"} for r in selling), selling


def test_docs_access_page_is_the_generated_matrix() -> None:
    page = repo_root() / "docs" / "access.md"
    expected = render()
    assert page.read_text() == expected, (
        "docs/access.md is out of date: run "
        "`.venv/bin/python -m kugelpos.testkit.access_matrix > docs/access.md`"
    )
