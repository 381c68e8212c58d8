"""Fixtures of the security tests: the two-tenant world (kugelpos.testkit.security) and an
end-of-run summary of the access matrix and the fuzz run.

Session-scoped: the access matrix and the fuzz run share one world (set-up costs a few seconds
on two cores), and no other test's tenant is anywhere near it.
"""

from __future__ import annotations

from typing import Any

import pytest

from kugelpos.devstack.stack import Stack
from kugelpos.testkit.security import SUMMARY, World, build_world


@pytest.fixture(scope="session")
async def world(stack: Stack) -> World:
    return await build_world(stack)


@pytest.fixture
def security_summary(request: pytest.FixtureRequest) -> dict[str, dict[str, Any]]:
    """Where a test leaves figures for the end-of-run summary."""
    return request.config.stash.setdefault(SUMMARY, {})


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    found = config.stash.get(SUMMARY, None)
    if not found:
        return
    terminalreporter.section("security")
    for name, figures in found.items():
        terminalreporter.write_line(f"{name}: " + ", ".join(f"{k}={v}" for k, v in figures.items()))
