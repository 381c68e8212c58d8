"""Events: each log is published exactly once through the outbox; delivery status is kept
per consumer and updated from `tranlog_status` acknowledgements and the HTTP endpoint."""

from __future__ import annotations

import asyncio

import httpx

from kugelpos.testkit.testing import assert_error, assert_ok, new_tenant_id

CASH = "cashlog_report"
OPENCLOSE = "opencloselog_report"


async def _settle() -> None:
    await asyncio.sleep(1.5)  # a few relay rounds: nothing more may be published


async def test_every_log_is_published_exactly_once(world) -> None:
    env = world.env
    await world.add_staff()
    assert_ok(await world.sign_in())
    opened = assert_ok(await world.open(1000))["data"]
    cash = assert_ok(
        await env.http.post(f"{world.path}/cash-in", headers=world.key, json={"amount": 5})
    )["data"]
    closed = assert_ok(await env.http.post(f"{world.path}/close", headers=world.key))["data"]
    db = env.db(world.tenant_id)
    float_log = await db["log_cash_in_out"].find_one({"kind": "float"})
    expected = [
        (CASH, float_log["event_id"]),
        (OPENCLOSE, opened["eventId"]),
        (CASH, cash["eventId"]),
        (OPENCLOSE, closed["eventId"]),
    ]
    for topic, event_id in expected:
        assert await env.wait_published(topic, event_id) == 1
    await _settle()
    for topic, event_id in expected:
        assert await env.published(topic, event_id) == 1
        record = await env.outbox.find_one({"event_id": event_id})
        assert record["relay_status"] == "published" and record["publish_count"] == 1
        # The stack runs the real report and journal, which may have acknowledged already.
        assert record["status"] in ("published", "partially_delivered", "delivered")
        assert [c["service_name"] for c in record["consumers"]] == ["report", "journal"]
    # The payloads: snake_case logs with event_id and event_type, never a key or a PIN.
    payload = (await env.outbox.find_one({"event_id": float_log["event_id"]}))["payload"]
    assert payload["event_type"] == "cash_in_out" and payload["amount"] == 1000
    assert payload["description"] == "Initial amount"
    close_payload = (await env.outbox.find_one({"event_id": closed["eventId"]}))["payload"]
    assert close_payload["event_type"] == "close" and close_payload["operation"] == "close"
    assert close_payload["expected_amount"] == 1005
    text = str(close_payload) + str(payload)
    assert world.api_key not in text and "api_key" not in text and "4321" not in text


async def test_acknowledgements_on_tranlog_status(world) -> None:
    env = world.env
    opened = assert_ok(await world.open())["data"]
    event_id = opened["eventId"]
    await env.wait_published(OPENCLOSE, event_id)
    # A consumer publishes its acknowledgement through its sidecar.
    async with httpx.AsyncClient(base_url=env.stack.sidecar_url) as dapr:
        for service in ("report", "journal"):
            r = await dapr.post(
                "/v1.0/publish/pubsub/tranlog_status",
                json={"event_id": event_id, "service": service, "status": "received"},
                headers=env.stack.dapr_headers(service),
            )
            assert r.status_code == 204

    async def delivered() -> bool:
        record = await env.outbox.find_one({"event_id": event_id})
        return record["status"] == "delivered"

    deadline = asyncio.get_running_loop().time() + 30
    while not await delivered():
        assert asyncio.get_running_loop().time() < deadline, "ack not recorded"
        await asyncio.sleep(0.2)
    record = await env.outbox.find_one({"event_id": event_id})
    assert all(c["status"] == "received" and c["received_at"] for c in record["consumers"])


async def test_delivery_status_endpoint(world) -> None:
    env = world.env
    opened = assert_ok(await world.open())["data"]
    event_id = opened["eventId"]
    url = f"{world.path}/delivery-status"
    body = {"event_id": event_id, "service": "report", "status": "received"}

    async def record() -> dict:
        return await env.outbox.find_one(
            {"event_id": event_id}, {"_id": 0, "status": 1, "consumers": 1}
        )

    # The session stack runs the real report and journal, which acknowledge on their own: let
    # them, so that from here on only this test's requests could change the record.
    deadline = asyncio.get_running_loop().time() + 30
    while (await record())["status"] != "delivered":
        assert asyncio.get_running_loop().time() < deadline, "report and journal did not ack"
        await asyncio.sleep(0.05)
    before = await record()
    # Refusals: no credential, the terminal's own key, another tenant's service, bad body.
    assert_error(await env.http.post(url, json=body), 401)
    assert_error(await env.http.post(url, headers=world.key, json=body), 401)
    assert_error(await env.http.post(url, headers=world.admin, json=body), 403)
    other = env.service_headers(new_tenant_id("TT"))
    assert_error(await env.http.post(url, headers=other, json=body), 403)
    r = await env.http.post(
        url, headers=env.service_headers(world.tenant_id), json={**body, "status": "bogus"}
    )
    assert_error(r, 422)
    other_id, _ = await world.add_terminal(2)
    r = await env.http.post(
        f"/api/v1/terminals/{other_id}/delivery-status",
        headers=env.service_headers(world.tenant_id),
        json=body,
    )
    assert_error(r, 404)
    r = await env.http.post(
        url, headers=env.service_headers(world.tenant_id), json={**body, "event_id": "nope"}
    )
    assert_error(r, 404)
    assert await record() == before
    # A service token of the tenant, then the notify key (accepted here only).
    r = await env.http.post(url, headers=env.service_headers(world.tenant_id), json=body)
    assert assert_ok(r)["data"] == {
        "event_id": event_id,
        "service": "report",
        "status": "received",
        "success": True,
        "overall_status": "delivered",
    }
    notify = {"X-API-KEY": env.stack.pubsub_key}
    r = await env.http.post(url, headers=notify, json={**body, "service": "journal"})
    assert assert_ok(r)["data"]["overall_status"] == "delivered"
    # A late failure report of a redelivery does not undo a receipt.
    r = await env.http.post(url, headers=notify, json={**body, "status": "failed"})
    assert assert_ok(r)["data"]["overall_status"] == "delivered"
    assert {c["service_name"]: c["status"] for c in (await record())["consumers"]} == {
        "report": "received",
        "journal": "received",
    }
