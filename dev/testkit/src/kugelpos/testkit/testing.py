"""Assertions and helpers shared by the integration tests of every service."""

from __future__ import annotations

import re
import secrets

import httpx

ENVELOPE_KEYS = frozenset(
    {"success", "code", "message", "userError", "data", "metadata", "operation"}
)


def new_tenant_id(prefix: str = "T") -> str:
    """A tenant id no other test uses (tests share one stack)."""
    return prefix + secrets.token_hex(4).upper()


def assert_ok(response: httpx.Response, status: int = 200) -> dict:
    """A success envelope with all seven keys; returns its body."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == ENVELOPE_KEYS, body
    assert body["success"] is True and body["code"] == status and body["userError"] is None
    return body


def assert_error(response: httpx.Response, status: int, code: str | None = None) -> dict:
    """An error envelope: six-digit string code repeated in userError (and, for v1 clients,
    in user_error); returns its body."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == ENVELOPE_KEYS | {"user_error"}, body
    assert body["user_error"] == body["userError"], body
    assert body["success"] is False and body["data"] is None
    assert re.fullmatch(r"\d{6}", body["code"]), body["code"]
    assert body["userError"]["code"] == body["code"]
    assert body["userError"]["message"]
    if code is not None:
        assert body["code"] == code, body
    return body


PASSWORD = "correct-horse-battery"


async def login(
    client: httpx.AsyncClient, tenant_id: str, username: str, password: str = PASSWORD
) -> httpx.Response:
    """`POST /api/v1/accounts/token` on an account-service client."""
    return await client.post(
        "/api/v1/accounts/token",
        data={"username": username, "password": password, "client_id": tenant_id},
    )


class Admin:
    """A freshly registered tenant and its administrator's bearer token."""

    def __init__(self, tenant_id: str, username: str, token: str) -> None:
        self.tenant_id = tenant_id
        self.username = username
        self.token = token

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


async def register_tenant_admin(
    account_url: str, tenant_id: str | None = None, username: str = "admin"
) -> Admin:
    """Register a new tenant through the account service and log its admin in."""
    tenant_id = tenant_id or new_tenant_id()
    async with httpx.AsyncClient(base_url=account_url, timeout=30) as client:
        r = await client.post(
            "/api/v1/accounts/register",
            json={"username": username, "password": PASSWORD, "tenantId": tenant_id},
        )
        assert r.status_code == 201, r.text
        token = await login(client, tenant_id, username)
        assert token.status_code == 200, token.text
    return Admin(tenant_id, username, token.json()["access_token"])


# Real terminals, by (terminal service URL, terminal id): a terminal JWT is checked live on
# every service, so a test that acts as a till needs one the terminal service knows.
_TILL_TOKENS: dict[tuple[str, str], str] = {}


async def till_bearer(
    terminal_url: str,
    admin: dict[str, str],
    tenant_id: str,
    store_code: str = "S1",
    terminal_no: int = 1,
) -> dict[str, str]:
    """The bearer header of a real terminal's JWT: its tenant, store and terminal are created
    at the terminal service when missing (a tenant admin's `admin` header), its key exchanged
    for a token. Cached per terminal for the test session."""
    terminal_id = f"{tenant_id}-{store_code}-{terminal_no}"
    key = (terminal_url, terminal_id)
    if key not in _TILL_TOKENS:
        async with httpx.AsyncClient(base_url=terminal_url, timeout=30) as client:
            r = await client.post(
                "/api/v1/tenants",
                headers=admin,
                json={"tenantId": tenant_id, "tenantName": "Test tenant"},
            )
            assert r.status_code in (201, 409), r.text
            r = await client.post(
                f"/api/v1/tenants/{tenant_id}/stores",
                headers=admin,
                json={"storeCode": store_code, "storeName": f"Store {store_code}"},
            )
            assert r.status_code in (201, 409), r.text
            r = await client.post(
                "/api/v1/terminals",
                headers=admin,
                json={"storeCode": store_code, "terminalNo": terminal_no, "description": "till"},
            )
            if r.status_code == 409:  # created earlier: a new key is the way to a token
                r = await client.post(f"/api/v1/terminals/{terminal_id}/api-key", headers=admin)
            api_key = assert_ok(r, r.status_code if r.status_code in (200, 201) else 200)
            r = await client.post(
                "/api/v1/auth/token",
                headers={"X-API-KEY": api_key["data"]["apiKey"]},
                params={"terminal_id": terminal_id},
            )
            _TILL_TOKENS[key] = assert_ok(r)["data"]["access_token"]
    return {"Authorization": f"Bearer {_TILL_TOKENS[key]}"}
