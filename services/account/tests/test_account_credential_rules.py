"""What a new user's name and password must be: not one of the most common passwords, not only
whitespace, valid text; a user name without control or invisible characters. Each refusal is a
422 envelope with its own 408xxx code, and nothing is written."""

from __future__ import annotations

import json

import pytest

from kugelpos.account.users.policy import common_passwords
from kugelpos.testkit.testing import PASSWORD, assert_error, assert_ok, new_tenant_id

COMMON = ("password", "12345678", "qwertyuiop", "iloveyou1")
# As people type them: capitals, spaces around.
COMMON_VARIANTS = ("Password", " 12345678 ", "QWERTYUIOP", "ILoveYou1")


def test_the_shipped_list_holds_the_usual_suspects() -> None:
    listed = common_passwords()
    assert 900 <= len(listed) <= 1100
    assert set(COMMON) <= listed
    assert PASSWORD not in listed  # the tests' own password is not refused
    assert all(len(p) >= 8 and p == p.strip().lower() for p in listed)


async def test_registration_refuses_weak_passwords_and_odd_names(
    client, mongo, db_name, databases
) -> None:
    before = await databases()
    cases = [(p, "408001") for p in COMMON + COMMON_VARIANTS] + [
        (" " * 10, "408002"),
        ("\t \t \t \t \t", "408002"),
        ("\u3000" * 8, "408002"),  # ideographic spaces
    ]
    tenants = []
    for password, code in cases:
        tenant_id = new_tenant_id()
        tenants.append(tenant_id)
        r = await client.post(
            "/api/v1/accounts/register",
            json={"username": "owner", "password": password, "tenantId": tenant_id},
        )
        body = assert_error(r, 422, code)
        assert body["userError"]["message"]
        if password.strip().lower() not in ("", "password"):  # "password" is in the message
            assert password.strip() not in r.text  # never echoed
    for username in ("ab\x01cd", "zero\u200bwidth", "bell\x07", "x\x7fy", "line\nbreak", "\x1bx"):
        tenant_id = new_tenant_id()
        tenants.append(tenant_id)
        r = await client.post(
            "/api/v1/accounts/register",
            json={"username": username, "password": PASSWORD, "tenantId": tenant_id},
        )
        assert_error(r, 422, "408003")
    # A lone surrogate could not be encoded to be hashed: refused as input, never a 500.
    tenant_id = new_tenant_id()
    tenants.append(tenant_id)
    raw = json.dumps({"username": "owner", "tenantId": tenant_id})[:-1]
    raw += ', "password": "long-enough\\ud800pw"}'
    r = await client.post(
        "/api/v1/accounts/register", content=raw, headers={"content-type": "application/json"}
    )
    assert_error(r, 422, "300001")
    assert await databases() == before
    claims = mongo[db_name("commons")]["tenants"]
    assert await claims.count_documents({"tenant_id": {"$in": tenants}}) == 0


@pytest.mark.parametrize("path", ["/api/v1/accounts/users", "/api/v1/accounts/register/user"])
async def test_an_admin_cannot_create_a_user_with_a_weak_password(
    client, mongo, db_name, admin, path: str
) -> None:
    users = mongo[db_name(admin.tenant_id)]["user_accounts"]
    before = await users.count_documents({})
    for username, password, code in (
        ("clerk", "Password", "408001"),
        ("clerk", "        ", "408002"),
        ("cl\x00erk", PASSWORD, "408003"),
        ("cl\u202eerk", PASSWORD, "408003"),  # right-to-left override
    ):
        r = await client.post(
            path, headers=admin.headers, json={"username": username, "password": password}
        )
        assert_error(r, 422, code)
    assert await users.count_documents({}) == before
    # Unusual passwords and names with spaces inside are fine.
    r = await client.post(
        path,
        headers=admin.headers,
        json={"username": "Hanako Yamada", "password": "tram 42 under the ginkgo"},
    )
    assert_ok(r, 201)
    assert await users.count_documents({}) == before + 1
