"""Cross-service end-to-end tests: everything here runs through HTTP against the session stack.

The `stack` fixture (kugelpos.testkit.pytest_plugin) starts Redis, MongoDB, the local Dapr
sidecar and every registered service once per test session; the fixtures below only add
clients and a fresh tenant per test, so tests never share data.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from kugelpos.devstack.stack import Stack
from kugelpos.registry.services import SERVICES
from kugelpos.testkit.testing import Admin, register_tenant_admin


@pytest.fixture
async def clients(stack: Stack) -> AsyncIterator[dict[str, httpx.AsyncClient]]:
    """One client per registered service, keyed by service name, rooted at the service URL."""
    opened = {
        spec.name: httpx.AsyncClient(base_url=stack.url(spec.name), timeout=30) for spec in SERVICES
    }
    try:
        yield opened
    finally:
        for client in opened.values():
            await client.aclose()


@pytest.fixture
async def tenant_admin(stack: Stack) -> Admin:
    """A newly registered tenant and its administrator's token."""
    return await register_tenant_admin(stack.url("account"))
