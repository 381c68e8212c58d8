"""A stopped sidecar delays events and never loses one; a restarted relay never publishes an
event twice; tenant set-up that failed somewhere is reported and can be retried.

These run on a private stack (terminal only) so stopping its components disturbs no one."""

from __future__ import annotations

import asyncio

from kugelpos.devstack.stack import SIDECAR
from kugelpos.testkit.testing import assert_error, assert_ok, new_tenant_id

CASH = "cashlog_report"
OPENCLOSE = "opencloselog_report"


async def _world(env):
    # Imported lazily: conftest's builder, reached through the fixture module.
    tenant_id = new_tenant_id("TO")
    admin = env.user(tenant_id)
    r = await env.http.post(
        "/api/v1/tenants", headers=admin, json={"tenantId": tenant_id, "tenantName": "x"}
    )
    assert r.status_code in (201, 502), r.text
    r = await env.http.post(
        f"/api/v1/tenants/{tenant_id}/stores",
        headers=admin,
        json={"storeCode": "S1", "storeName": "Store"},
    )
    assert_ok(r, 201)
    r = await env.http.post(
        "/api/v1/terminals",
        headers=admin,
        json={"storeCode": "S1", "terminalNo": 1, "description": "x"},
    )
    data = assert_ok(r, 201)["data"]
    return tenant_id, data["terminalId"], {"X-API-KEY": data["apiKey"]}


async def test_sidecar_stopped_during_the_write_then_relay_restarted(outage_env) -> None:
    env, stack = outage_env, outage_env.stack
    _, terminal_id, key = await _world(env)
    stack.stop_component(SIDECAR)
    try:
        r = await env.http.post(
            f"/api/v1/terminals/{terminal_id}/open", headers=key, json={"initialAmount": 100}
        )
        opened = assert_ok(r)["data"]  # the write succeeds without the sidecar
        await asyncio.sleep(1.0)
        record = await env.outbox.find_one({"event_id": opened["eventId"]})
        assert record["relay_status"] == "pending" and record["attempts"] >= 1
        # Stop the relay too while the event is pending.
        stack.stop_component("terminal")
    finally:
        stack.start_component(SIDECAR)
    stack.start_component("terminal")
    event_ids = [
        (OPENCLOSE, opened["eventId"]),
        (
            CASH,
            (await env.outbox.find_one({"keys.terminal_id": terminal_id, "topic": CASH}))[
                "event_id"
            ],
        ),
    ]
    for topic, event_id in event_ids:
        assert await env.wait_published(topic, event_id, within=30) == 1
    # Restart the relay again: nothing is published a second time.
    stack.stop_component("terminal")
    stack.start_component("terminal")
    await asyncio.sleep(2.0)
    for topic, event_id in event_ids:
        assert await env.published(topic, event_id) == 1
        record = await env.outbox.find_one({"event_id": event_id})
        assert record["publish_count"] == 1 and record["relay_status"] == "published"


async def test_tenant_setup_failure_is_reported_and_retry_safe(outage_env) -> None:
    env, stack = outage_env, outage_env.stack
    original = dict(stack.extra_env)
    # master-data "deployed" at an address where nothing answers.
    stack.extra_env = {
        **original,
        "TENANT_SETUP_SERVICES": "master-data",
        "BASE_URL_MASTER_DATA": "http://127.0.0.1:9/api/v1",
    }
    stack.stop_component("terminal")
    stack.start_component("terminal")
    try:
        tenant_id = new_tenant_id("TO")
        body = {"tenantId": tenant_id, "tenantName": "x", "tags": []}
        for _ in range(2):  # failing again on retry is still a clean 502
            r = await env.http.post("/api/v1/tenants", headers=env.user(tenant_id), json=body)
            err = assert_error(r, 502, "407201")
            assert "master-data: failed" in err["message"]
        stored = await env.db(tenant_id)["info_tenant"].find_one({"tenant_id": tenant_id})
        assert stored["setup_complete"] is False
        assert await env.db(tenant_id)["info_tenant"].count_documents({}) == 1
    finally:
        stack.extra_env = original
        stack.stop_component("terminal")
        stack.start_component("terminal")
    # With the service back (here: not deployed, so skipped), the retry completes.
    r = await env.http.post("/api/v1/tenants", headers=env.user(tenant_id), json=body)
    data = assert_ok(r, 201)["data"]
    assert data["setupComplete"] is True
    assert_error(
        await env.http.post("/api/v1/tenants", headers=env.user(tenant_id), json=body), 409
    )
