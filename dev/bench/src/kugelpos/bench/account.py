"""Account service: password login (token issue) and token validation."""

from __future__ import annotations

import secrets

from kugelpos.bench.scenarios import BenchContext, scenario
from kugelpos.bench.timing import LoadResult, run_load

USERNAME = "bench-admin"


async def _register_tenant(context: BenchContext) -> tuple[str, str]:
    """A fresh tenant admin; returns (tenant id the service assigned, password)."""
    password = secrets.token_urlsafe(16)
    # The service may assign another id if this one is taken; the response says which.
    wanted = f"BENCH{secrets.token_hex(3).upper()}"
    response = await context.client.post(
        f"{context.stack.base_url('account')}/accounts/register",
        json={"username": USERNAME, "password": password, "tenantId": wanted},
    )
    response.raise_for_status()
    return response.json()["data"]["tenantId"], password


@scenario("account.token", services=["account"])
async def token_issue_and_validate(context: BenchContext) -> list[tuple[str, LoadResult]]:
    base = context.stack.base_url("account")
    tenant_id, password = await _register_tenant(context)
    form = {"username": USERNAME, "password": password, "client_id": tenant_id}

    async def issue(_: int) -> bool:
        response = await context.client.post(f"{base}/accounts/token", data=form)
        return response.status_code == 200 and "access_token" in response.json()

    login = await context.client.post(f"{base}/accounts/token", data=form)
    login.raise_for_status()
    headers = {"Authorization": f"Bearer {login.json()['access_token']}"}

    async def validate(_: int) -> bool:
        response = await context.client.get(f"{base}/accounts/token/valid", headers=headers)
        return response.status_code == 200

    results: list[tuple[str, LoadResult]] = []
    for name, operation in (("account.token_issue", issue), ("account.token_validate", validate)):
        for concurrency in context.concurrency_levels:
            await run_load(operation, requests=min(10, context.requests), concurrency=concurrency)
            measured = await run_load(operation, requests=context.requests, concurrency=concurrency)
            results.append((name, measured))
    return results
