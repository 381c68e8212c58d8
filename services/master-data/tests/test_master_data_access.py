"""Who may do what: tenant setup, reads by any credential of the tenant, writes by admins and
managers only, nothing across tenants."""

from __future__ import annotations

import httpx
import pytest

from kugelpos.devstack.stack import Stack
from kugelpos.testkit.testing import PASSWORD, assert_error, assert_ok, login

from .conftest import Tenant, bearer

PAYMENT = {
    "paymentCode": "P-ACL",
    "description": "Cash",
    "limitAmount": 0,
    "canRefund": True,
    "canDepositOver": True,
    "canChange": True,
    "isActive": True,
}


async def test_tenant_setup_is_idempotent(md: httpx.AsyncClient, tenant: Tenant) -> None:
    for body in ({"tenantId": tenant.tenant_id}, {"tenant_id": tenant.tenant_id}):
        r = await md.post("/api/v1/tenants", json=body, headers=tenant.admin)
        data = assert_ok(r, 201)
        assert data["data"] == {"tenantId": tenant.tenant_id}
        assert data["message"] == f"Creating tenant has completed: {tenant.tenant_id}"
        assert data["operation"] == "create_tenant"
    assert_ok(
        await md.post(
            "/api/v1/tenants", json={"tenantId": tenant.tenant_id}, headers=tenant.service
        ),
        201,
    )


async def test_tenant_setup_refusals(
    md: httpx.AsyncClient, tenant: Tenant, other_tenant: Tenant
) -> None:
    url = "/api/v1/tenants"
    r = await md.post(url, json={"tenantId": other_tenant.tenant_id}, headers=tenant.admin)
    assert_error(r, 403, "200002")
    assert_error(await md.post(url, json={"tenantId": tenant.tenant_id}), 401, "200001")
    r = await md.post(url, json={"tenantId": tenant.tenant_id}, headers=await tenant.till())
    assert_error(r, 403)
    r = await md.post(
        url,
        json={"tenantId": tenant.tenant_id},
        headers={"X-API-KEY": "whatever"},
        params={"terminal_id": f"{tenant.tenant_id}-S1-1"},
    )
    assert_error(r, 401)  # token only
    assert_error(await md.post(url, json={}, headers=tenant.admin), 422)


async def test_reads_open_to_every_credential_of_the_tenant(
    md: httpx.AsyncClient, tenant: Tenant
) -> None:
    url = f"{tenant.base}/taxes/01"
    for headers in (
        tenant.admin,
        tenant.manager,
        tenant.user("user"),
        await tenant.till(),
        tenant.service,
    ):
        assert_ok(await md.get(url, headers=headers))
    # v1's flag is accepted and changes nothing.
    r = await md.get(url, params={"is_terminal_service": "true"}, headers=await tenant.till())
    assert_ok(r)
    assert_error(await md.get(url), 401, "200001")
    assert_error(await md.get(url, headers=bearer("not-a-jwt")), 401)


async def test_writes_need_admin_or_manager(md: httpx.AsyncClient, tenant: Tenant) -> None:
    url = f"{tenant.base}/payments"
    for headers in (await tenant.till(), tenant.user("user"), tenant.service):
        assert_error(await md.post(url, json=PAYMENT, headers=headers), 403, "200002")
    assert_error(await md.get(f"{url}/P-ACL", headers=tenant.admin), 404)  # nothing written

    assert_ok(await md.post(url, json=PAYMENT, headers=tenant.manager), 201)
    update = {k: v for k, v in PAYMENT.items() if k != "paymentCode"} | {"description": "Cash!"}
    for headers in (await tenant.till(), tenant.user("user")):
        assert_error(await md.put(f"{url}/P-ACL", json=update, headers=headers), 403)
        assert_error(await md.delete(f"{url}/P-ACL", headers=headers), 403)
    assert_ok(await md.put(f"{url}/P-ACL", json=update, headers=tenant.manager))
    assert_ok(await md.delete(f"{url}/P-ACL", headers=tenant.admin))


async def test_plain_user_from_account_service_cannot_write(
    stack: Stack, md: httpx.AsyncClient, tenant: Tenant
) -> None:
    async with httpx.AsyncClient(base_url=stack.url("account"), timeout=30) as account:
        r = await account.post(
            "/api/v1/accounts/users",
            json={"username": "clerk", "password": PASSWORD, "roles": ["user"]},
            headers=tenant.admin,
        )
        assert r.status_code == 201, r.text
        token = (await login(account, tenant.tenant_id, "clerk")).json()["access_token"]
    clerk = bearer(token)
    assert_ok(await md.get(f"{tenant.base}/payments", headers=clerk))
    r = await md.post(f"{tenant.base}/payments", json=PAYMENT, headers=clerk)
    assert_error(r, 403)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/items"),
        ("GET", "/items/X"),
        ("POST", "/items"),
        ("GET", "/stores/S1/items/X/details"),
        ("GET", "/staff"),
        ("POST", "/staff/X/verify-pin"),
        ("GET", "/settings/X/value?store_code=S1&terminal_no=1"),
        ("DELETE", "/payments/X"),
        ("GET", "/item_books"),
        ("GET", "/taxes"),
        ("GET", "/promotions/active"),
        ("PUT", "/categories/X"),
    ],
)
async def test_another_tenants_credential_is_403(
    md: httpx.AsyncClient, tenant: Tenant, other_tenant: Tenant, method: str, path: str
) -> None:
    for headers in (other_tenant.admin, await other_tenant.till()):
        r = await md.request(method, tenant.base + path, json={}, headers=headers)
        assert_error(r, 403, "200002")


async def test_api_key_needs_terminal_id(md: httpx.AsyncClient, tenant: Tenant) -> None:
    r = await md.get(f"{tenant.base}/taxes", headers={"X-API-KEY": "some-key"})
    assert_error(r, 401)


async def test_tenant_setup_needs_a_manager_or_a_service(
    md: httpx.AsyncClient, tenant: Tenant
) -> None:
    """Regression (access matrix, issue 12): a plain user of the tenant could run tenant
    set-up. Creating databases and indexes is a back office's business."""
    body = {"tenantId": tenant.tenant_id}
    assert_error(await md.post("/api/v1/tenants", json=body, headers=tenant.user("user")), 403)
    assert_ok(await md.post("/api/v1/tenants", json=body, headers=tenant.manager), 201)
