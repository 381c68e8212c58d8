"""The two-tenant world of the security tests (tests/security): tenant A with two tills, a
cart, a plain user, a manager and a till in a second store, tenant B with one till, a
terminal JWT for every till, and the served OpenAPI document of every service; plus the stash
keys their summaries travel under.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from kugelpos.devstack.pos import Shop, Till, add_till, open_shop, open_till
from kugelpos.devstack.stack import Stack
from kugelpos.registry.services import SERVICES
from kugelpos.testkit.testing import PASSWORD, login

# What the access matrix and the fuzz run found, for the end-of-run summary.
SUMMARY = pytest.StashKey[dict[str, dict[str, Any]]]()

URL_NAMES = ("account", "terminal", "master-data", "cart", "journal", "report", "stock")


@dataclass
class World:
    stack: Stack
    a: Shop
    b: Shop
    user_a: dict[str, str]  # bearer of a plain user (role "user") of tenant A
    manager_a: dict[str, str] = field(default_factory=dict)  # a user with role "manager"
    other_store_a: Till | None = None  # a till of tenant A in a second store
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


async def user_bearer(
    client: httpx.AsyncClient, account_url: str, shop: Shop, username: str, role: str
) -> dict[str, str]:
    r = await client.post(
        f"{account_url}/api/v1/accounts/users",
        headers=shop.admin,
        json={"username": username, "password": PASSWORD, "roles": [role]},
    )
    assert r.status_code == 201, r.text
    async with httpx.AsyncClient(base_url=account_url, timeout=30) as account:
        token = await login(account, shop.tenant_id, username)
    assert token.status_code == 200, token.text
    return {"Authorization": f"Bearer {token.json()['access_token']}"}


async def _till_in_new_store(client: httpx.AsyncClient, shop: Shop) -> Till:
    """An open till of the same tenant in a second store (for store-scope refusals: open, so
    that what refuses it is the store, not its state)."""
    store = shop.store_code + "X"
    r = await client.post(
        shop.url("terminal", f"/api/v1/tenants/{shop.tenant_id}/stores"),
        headers=shop.admin,
        json={"storeCode": store, "storeName": "Second store"},
    )
    assert r.status_code == 201, r.text
    other = Shop(shop.tenant_id, store, shop.admin, shop.urls)
    till = await add_till(client, other, 1)
    await open_till(client, other, till)
    return till


async def build_world(stack: Stack) -> World:
    """Tenant A (two tills, a cart, a plain user), tenant B (one till), terminal JWTs and
    every service's OpenAPI document, all through HTTP."""
    urls = {name: stack.url(name) for name in URL_NAMES}
    async with httpx.AsyncClient(timeout=60) as client:
        a = await open_shop(client, urls, terminals=2)
        b = await open_shop(client, urls, terminals=1)
        user_a = await user_bearer(client, urls["account"], a, "clerk", "user")
        found = World(stack, a, b, user_a)
        found.manager_a = await user_bearer(client, urls["account"], a, "manager", "manager")
        found.other_store_a = await _till_in_new_store(client, a)
        for till in [*a.tills, *b.tills, found.other_store_a]:
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
