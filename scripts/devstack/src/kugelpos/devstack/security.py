"""The two-tenant world of the security tests (tests/security): tenant A with two tills, a
cart and a plain user, tenant B with one till, a terminal JWT for every till, and the served
OpenAPI document of every service; plus the stash keys their summaries travel under.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from .pos import Shop, Till, open_shop
from .services import SERVICES
from .stack import Stack
from .testing import PASSWORD, login

# What the access matrix and the fuzz run found, for the end-of-run summary.
SUMMARY = pytest.StashKey[dict[str, dict[str, Any]]]()

URL_NAMES = ("account", "terminal", "master-data", "cart", "journal", "report", "stock")


@dataclass
class World:
    stack: Stack
    a: Shop
    b: Shop
    user_a: dict[str, str]  # bearer of a plain user (role "user") of tenant A
    jwt: dict[str, str] = field(default_factory=dict)  # terminal id -> terminal JWT
    cart_a1: str = ""  # a cart of A's first till
    specs: dict[str, dict[str, Any]] = field(default_factory=dict)

    def bearer(self, till: Till) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.jwt[till.terminal_id]}"}

    def known_secrets(self) -> dict[str, str]:
        """Values that must never appear in a response. The staff PIN (4 digits) is left
        out: it occurs by chance in amounts and ids; the `pin` key check covers it."""
        found = {
            "secret key": self.stack.secret_key,
            "app token": self.stack.app_token,
            "pubsub notify key": self.stack.pubsub_key,
            "user password": PASSWORD,
        }
        for app_id, token in self.stack.dapr_tokens.items():
            found[f"dapr api token of {app_id}"] = token
        for shop in (self.a, self.b):
            for till in shop.tills:
                found[f"api key of {till.terminal_id}"] = till.api_key
        return found


async def _terminal_jwt(client: httpx.AsyncClient, terminal_url: str, till: Till) -> str:
    r = await client.post(
        f"{terminal_url}/api/v1/auth/token", headers=till.headers, params=till.params
    )
    assert r.status_code == 200, r.text
    return r.json()["data"]["access_token"]


async def build_world(stack: Stack) -> World:
    """Tenant A (two tills, a cart, a plain user), tenant B (one till), terminal JWTs and
    every service's OpenAPI document, all through HTTP."""
    urls = {name: stack.url(name) for name in URL_NAMES}
    async with httpx.AsyncClient(timeout=60) as client:
        a = await open_shop(client, urls, terminals=2)
        b = await open_shop(client, urls, terminals=1)
        r = await client.post(
            f"{urls['account']}/api/v1/accounts/users",
            headers=a.admin,
            json={"username": "clerk", "password": PASSWORD, "roles": ["user"]},
        )
        assert r.status_code == 201, r.text
        account = httpx.AsyncClient(base_url=urls["account"], timeout=30)
        async with account:
            token = await login(account, a.tenant_id, "clerk")
        assert token.status_code == 200, token.text
        user_a = {"Authorization": f"Bearer {token.json()['access_token']}"}
        found = World(stack, a, b, user_a)
        for till in [*a.tills, *b.tills]:
            found.jwt[till.terminal_id] = await _terminal_jwt(client, urls["terminal"], till)
        first = a.tills[0]
        r = await client.post(
            f"{urls['cart']}/api/v1/carts",
            params=first.params,
            headers=first.headers,
            json={"transactionType": 101, "userId": "u1", "userName": "Guest"},
        )
        assert r.status_code == 201, r.text
        found.cart_a1 = r.json()["data"]["cartId"]
        for spec in SERVICES:
            r = await client.get(f"{stack.url(spec.name)}/openapi.json")
            assert r.status_code == 200, r.text
            found.specs[spec.name] = r.json()
    return found
