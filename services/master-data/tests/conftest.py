"""Fixtures of the master-data integration tests (HTTP against the embedded session stack).

Tokens: the tenant admin logs in through the account service; other roles and credential
kinds (manager, plain user, terminal, service) are minted with the stack's secret, exactly
as account and terminal would issue them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta

import httpx
import pytest
from pymongo import AsyncMongoClient

from kugelpos.common.auth.tokens import TokenCodec
from kugelpos.devstack.stack import Stack
from kugelpos.testkit.testing import register_tenant_admin, till_bearer

SERVICE = "master-data"
HOUR = timedelta(hours=1)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@dataclass
class Tenant:
    tenant_id: str
    codec: TokenCodec
    admin_token: str
    terminal_url: str = ""

    @property
    def base(self) -> str:
        return f"/api/v1/tenants/{self.tenant_id}"

    @property
    def admin(self) -> dict[str, str]:
        return bearer(self.admin_token)

    def user(self, *roles: str, username: str = "someone") -> dict[str, str]:
        return bearer(
            self.codec.issue_user_token(
                username=username,
                tenant_id=self.tenant_id,
                is_superuser=False,
                roles=list(roles),
                lifetime=HOUR,
            )
        )

    @property
    def manager(self) -> dict[str, str]:
        return self.user("manager", username="manager")

    async def till(self, store_code: str = "S1", terminal_no: int = 1) -> dict[str, str]:
        """A real terminal's JWT (every service checks terminal credentials live)."""
        return await till_bearer(
            self.terminal_url, self.admin, self.tenant_id, store_code, terminal_no
        )

    @property
    def service(self) -> dict[str, str]:
        return bearer(self.codec.issue_service_token(service="terminal", tenant_id=self.tenant_id))


@pytest.fixture(scope="session")
def codec(stack: Stack) -> TokenCodec:
    return TokenCodec(stack.secret_key)


@pytest.fixture
async def md(stack: Stack) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=stack.url(SERVICE), timeout=30) as client:
        yield client


async def new_tenant(stack: Stack, codec: TokenCodec) -> Tenant:
    admin = await register_tenant_admin(stack.url("account"))
    async with httpx.AsyncClient(base_url=stack.url(SERVICE), timeout=30) as client:
        r = await client.post(
            "/api/v1/tenants", json={"tenantId": admin.tenant_id}, headers=admin.headers
        )
        assert r.status_code == 201, r.text
    return Tenant(admin.tenant_id, codec, admin.token, stack.url("terminal"))


@pytest.fixture(scope="module")
async def tenant(stack: Stack, codec: TokenCodec) -> Tenant:
    """One tenant per test module; tests use their own codes inside it."""
    return await new_tenant(stack, codec)


@pytest.fixture(scope="module")
async def other_tenant(stack: Stack, codec: TokenCodec) -> Tenant:
    return await new_tenant(stack, codec)


@pytest.fixture
async def mongo(stack: Stack) -> AsyncIterator[AsyncMongoClient]:
    client = AsyncMongoClient(stack.mongo_uri_for("master-data"), tz_aware=True)
    yield client
    await client.close()
