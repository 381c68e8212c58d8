"""Return reasons (issue 25) through HTTP: CRUD, list, roles, bad input writing nothing."""

from __future__ import annotations

import httpx
from pymongo import AsyncMongoClient

from kugelpos.devstack.stack import Stack
from kugelpos.testkit.testing import assert_error, assert_ok

from .conftest import Tenant


def reason(code: str, **over) -> dict:
    return {"reasonCode": code, "description": f"Reason {code}", "restock": True} | over


async def _stored(mongo: AsyncMongoClient, stack: Stack, tenant: Tenant) -> list[dict]:
    db = mongo[stack.db_name("master-data", tenant.tenant_id)]
    return [d async for d in db["master_return_reason"].find({}, {"_id": 0, "reason_code": 1})]


async def test_return_reason_crud(md: httpx.AsyncClient, tenant: Tenant) -> None:
    url = f"{tenant.base}/return-reasons"
    body = reason("DAMAGED", description="Damaged", restock=False, requiresApproval=True)
    data = assert_ok(await md.post(url, json=body, headers=tenant.admin), 201)["data"]
    assert data["reasonCode"] == "DAMAGED" and data["description"] == "Damaged"
    assert data["restock"] is False and data["requiresApproval"] is True
    assert data["entryDatetime"]
    assert_error(await md.post(url, json=body, headers=tenant.admin), 409, "500005")

    # requiresApproval is optional and defaults to false.
    plain = assert_ok(await md.post(url, json=reason("CHANGED-MIND"), headers=tenant.manager), 201)
    assert plain["data"]["requiresApproval"] is False and plain["data"]["restock"] is True

    got = assert_ok(await md.get(f"{url}/DAMAGED", headers=await tenant.till()))["data"]
    assert got == data
    update = {"description": "Broken", "restock": True}
    updated = assert_ok(await md.put(f"{url}/DAMAGED", json=update, headers=tenant.admin))["data"]
    assert updated["description"] == "Broken" and updated["restock"] is True
    assert updated["requiresApproval"] is False
    assert_error(await md.put(f"{url}/NOPE", json=update, headers=tenant.admin), 404, "100001")

    listed = assert_ok(await md.get(url, headers=tenant.admin))
    assert [r["reasonCode"] for r in listed["data"]] == ["CHANGED-MIND", "DAMAGED"]
    assert listed["metadata"]["sort"] == "reason_code:1"

    deleted = assert_ok(await md.delete(f"{url}/DAMAGED", headers=tenant.admin))["data"]
    assert deleted == {"reasonCode": "DAMAGED"}
    assert_error(await md.delete(f"{url}/DAMAGED", headers=tenant.admin), 404, "100001")
    assert_error(await md.get(f"{url}/DAMAGED", headers=tenant.admin), 404, "100001")


async def test_return_reason_bad_input_writes_nothing(
    md: httpx.AsyncClient, tenant: Tenant, mongo: AsyncMongoClient, stack: Stack
) -> None:
    url = f"{tenant.base}/return-reasons"
    assert_ok(await md.post(url, json=reason("R-OK"), headers=tenant.admin), 201)
    before = await _stored(mongo, stack, tenant)
    assert {"reason_code": "R-OK"} in before  # the check below reads the real collection
    bad = [
        ({"reasonCode": "R-1"}, "300002"),  # description and restock missing
        (reason("R-2", restock="no"), None),  # a flag must be a boolean
        (reason("R-3", requiresApproval=1), None),
        (reason("has space"), None),
        (reason("R-4", description=""), None),
        (reason("R-5", description="x" * 257), None),
        (reason("x" * 65), None),
    ]
    for body, code in bad:
        r = await md.post(url, json=body, headers=tenant.admin)
        assert_error(r, 422, code)
        assert len(r.json()["code"]) == 6, r.text
    r = await md.post(url, content=b"{not json", headers=tenant.admin)
    assert_error(r, 422)
    assert await _stored(mongo, stack, tenant) == before


async def test_return_reason_writes_only_by_the_back_office(
    md: httpx.AsyncClient,
    tenant: Tenant,
    other_tenant: Tenant,
    mongo: AsyncMongoClient,
    stack: Stack,
) -> None:
    url = f"{tenant.base}/return-reasons"
    before = await _stored(mongo, stack, tenant)
    refused = [tenant.user("user"), await tenant.till(), tenant.service, other_tenant.admin]
    for headers in refused:
        assert_error(await md.post(url, json=reason("R-ACL"), headers=headers), 403, "200002")
    assert_error(await md.post(url, json=reason("R-ACL")), 401, "200001")
    assert await _stored(mongo, stack, tenant) == before
    # Any credential of the tenant reads; another tenant does not.
    assert_ok(await md.get(url, headers=tenant.user("user")))
    assert_error(await md.get(url, headers=other_tenant.admin), 403, "200002")
