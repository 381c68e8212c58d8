"""The whole embedded stack comes up and every service reaches its dependencies."""

import httpx
import pytest

from kugelpos.registry.services import SERVICES


@pytest.mark.parametrize("name", [spec.name for spec in SERVICES])
async def test_every_service_is_healthy_with_its_dependencies(clients, name):
    response = await clients[name].get("/health")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "healthy"
    assert all(check["status"] == "healthy" for check in body["checks"].values()), body


async def test_sidecar_answers(stack):
    async with httpx.AsyncClient() as client:
        response = await client.get(f"{stack.sidecar_url}/v1.0/healthz")
    assert response.status_code == 204


async def test_a_token_issued_by_account_validates(clients, tenant_admin):
    response = await clients["account"].get(
        "/api/v1/accounts/token/valid", headers=tenant_admin.headers
    )
    assert response.status_code == 200, response.text
    assert response.json()["data"]["tenantId"] == tenant_admin.tenant_id
