"""Snapshots (§B6), the schedule API (§B8) and alert sockets (§B7)."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import websockets

from kugelpos.devstack.stack import Stack
from kugelpos.testkit.testing import assert_error, assert_ok

from .conftest import Tenant, new_store


async def put(client, tenant: Tenant, store: str, item: str, change) -> None:
    assert_ok(
        await client.put(
            tenant.stock(store, f"/{item}/update"),
            json={"quantityChange": change, "updateType": "initial"},
            headers=tenant.admin,
        )
    )


async def test_snapshots_create_get_and_range(client: httpx.AsyncClient, tenant: Tenant) -> None:
    store = new_store()
    await put(client, tenant, store, "A", 2.5)
    await put(client, tenant, store, "B", 4)
    r = await client.post(tenant.stock(store, "/snapshot"), headers=tenant.admin)
    created = assert_ok(r, 201)
    assert created["message"] == "Snapshot created successfully"
    snap = created["data"]
    assert snap["id"] and snap["totalItems"] == 2 and snap["totalQuantity"] == 6.5
    assert snap["createdBy"] == "system"
    assert [s["itemCode"] for s in snap["stocks"]] == ["A", "B"]
    assert snap["generateDateTime"].endswith("+09:00")
    got = assert_ok(
        await client.get(tenant.stock(store, f"/snapshot/{snap['id']}"), headers=tenant.admin)
    )
    assert got["data"] == snap
    for bad in ("nope", "0" * 24):
        r = await client.get(tenant.stock(store, f"/snapshot/{bad}"), headers=tenant.admin)
        assert_error(r, 404, "414202")
    # Another store of the tenant does not see it.
    r = await client.get(tenant.stock(new_store(), f"/snapshot/{snap['id']}"), headers=tenant.admin)
    assert_error(r, 404, "414202")
    # Range bounds in any offset form (parsed, not compared as text).
    at = datetime.fromisoformat(snap["generateDateTime"])
    before = (at - timedelta(minutes=1)).astimezone(UTC).isoformat().replace("+00:00", "Z")
    after = (at + timedelta(minutes=1)).astimezone(ZoneInfo("America/New_York")).isoformat()
    url = tenant.stock(store, "/snapshots")
    found = assert_ok(
        await client.get(
            url, params={"start_date": before, "end_date": after}, headers=tenant.admin
        )
    )["data"]
    assert [s["id"] for s in found["data"]] == [snap["id"]]
    assert found["metadata"]["sort"] == "generate_date_time:-1"
    assert found["metadata"]["filter"] == {"start_date": before, "end_date": after}
    none = assert_ok(await client.get(url, params={"start_date": after}, headers=tenant.admin))
    assert none["data"]["data"] == []
    day = at.date().isoformat()
    whole_day = assert_ok(await client.get(url, params={"end_date": day}, headers=tenant.admin))
    assert whole_day["data"]["metadata"]["total"] == 1
    assert whole_day["data"]["metadata"]["filter"] == {"end_date": day}
    assert_error(
        await client.get(url, params={"start_date": "yesterday"}, headers=tenant.admin), 422
    )


async def test_schedule_api(client: httpx.AsyncClient, tenant: Tenant) -> None:
    url = f"{tenant.base}/stock/snapshot-schedule"
    default = assert_ok(await client.get(url, headers=tenant.admin))
    assert default["operation"] is None
    data = default["data"]
    assert (data["enabled"], data["schedule_interval"], data["schedule_hour"]) == (True, "daily", 2)
    assert data["target_stores"] == ["all"] and data["retention_days"] == 30
    body = {
        "enabled": True,
        "schedule_interval": "weekly",
        "schedule_hour": 3,
        "schedule_minute": 30,
        "schedule_day_of_week": 0,
        "retention_days": 90,
        "target_stores": ["S1", "S2"],
    }
    saved = assert_ok(await client.put(url, json=body, headers=tenant.admin))["data"]
    assert saved["schedule_day_of_week"] == 0 and saved["tenant_id"] == tenant.tenant_id
    upcoming = datetime.fromisoformat(saved["next_execution_at"])
    assert upcoming.weekday() == 0 and (upcoming.hour, upcoming.minute) == (3, 30)
    for bad in (
        {**body, "schedule_interval": "hourly"},
        {**body, "schedule_hour": 24},
        {**body, "schedule_minute": -1},
        {**body, "schedule_day_of_week": None},
        {**body, "schedule_interval": "monthly"},
        {**body, "retention_days": 366},
        {**body, "retention_days": 0},
        {**body, "target_stores": []},
        {**body, "target_stores": ["all", "S1"]},
    ):
        assert_error(await client.put(url, json=bad, headers=tenant.admin), 422)
    assert assert_ok(await client.get(url, headers=tenant.admin))["data"]["retention_days"] == 90
    deleted = assert_ok(await client.delete(url, headers=tenant.admin))
    assert deleted["data"] == {"deleted": True}
    again = assert_ok(await client.get(url, headers=tenant.admin))["data"]
    assert again["schedule_interval"] == "daily"


async def _frames(socket, count: int, seconds: float = 15) -> list:
    frames = []
    async with asyncio.timeout(seconds):
        while len(frames) < count:
            frames.append(await socket.recv())
    return frames


async def test_alert_socket(stack: Stack, client: httpx.AsyncClient, tenant: Tenant) -> None:
    store = new_store()
    await put(client, tenant, store, "R", 5)
    assert_ok(
        await client.put(
            tenant.stock(store, "/R/reorder"),
            json={"reorderPoint": 10, "reorderQuantity": 20},
            headers=tenant.admin,
        )
    )
    ws = stack.url("stock").replace("http", "ws") + f"/api/v1/ws/{tenant.tenant_id}/{store}"
    async with websockets.connect(ws) as socket:
        await socket.recv() if False else None
        closed = await asyncio.wait_for(socket.wait_closed(), 10)
        assert closed is None
    async with websockets.connect(f"{ws}?token=bad") as socket:
        await asyncio.wait_for(socket.wait_closed(), 10)
        assert socket.close_code == 1008 and socket.close_reason == "Authentication failed"
    other = Tenant("OTHER1", tenant.codec)
    async with websockets.connect(f"{ws}?token={other.token}") as socket:
        await asyncio.wait_for(socket.wait_closed(), 10)
        assert socket.close_reason == "Tenant ID mismatch"
    async with websockets.connect(f"{ws}?token={tenant.token}") as socket:
        first, initial = [json.loads(f) for f in await _frames(socket, 2)]
        assert first["type"] == "connection" and first["store_code"] == store
        assert initial["alert_type"] == "reorder_point" and initial["item_code"] == "R"
        await socket.send("ping")
        assert await _frames(socket, 1) == ["pong"]
        # A sale below the minimum raises a minimum alert (reorder is in its cooldown).
        assert_ok(
            await client.put(
                tenant.stock(store, "/M/minimum"), json={"minimumQuantity": 3}, headers=tenant.admin
            )
        )
        await put(client, tenant, store, "M", 1)
        # R's reorder alert, published when its point was set before this socket connected,
        # may still be on its way through the broadcast topic on a busy machine: it may come
        # first (and only it), never anything else.
        alert = json.loads((await _frames(socket, 1))[0])
        if alert["item_code"] == "R":
            assert alert["alert_type"] == "reorder_point"
            alert = json.loads((await _frames(socket, 1))[0])
        assert alert["alert_type"] == "minimum_stock" and alert["item_code"] == "M"
        assert alert["current_quantity"] == 1 and alert["minimum_quantity"] == 3


async def test_an_alert_older_than_its_cooldown_is_not_shown(
    stack: Stack, client: httpx.AsyncClient, tenant: Tenant
) -> None:
    """A replica started later gets the broadcast topic's retained history (daprd's groups
    start at the stream's beginning, and so do the local sidecar's); an alert older than the
    cooldown is taken and not shown, a fresh one is."""
    store = new_store()
    ws = stack.url("stock").replace("http", "ws") + f"/api/v1/ws/{tenant.tenant_id}/{store}"
    now = datetime.now(UTC)

    def frame(item: str, at: datetime) -> dict:
        return {
            "type": "stock_alert",
            "alert_type": "minimum_stock",
            "tenant_id": tenant.tenant_id,
            "store_code": store,
            "item_code": item,
            "current_quantity": 1,
            "minimum_quantity": 3,
            "reorder_quantity": 0,
            "timestamp": at.isoformat(),
        }

    url = f"{stack.sidecar_url}/v1.0/publish/pubsub-broadcast/stock_alerts"
    headers = stack.dapr_headers(stack.publisher_of("stock_alerts", "pubsub-broadcast"))
    async with websockets.connect(f"{ws}?token={tenant.token}") as socket:
        (hello,) = [json.loads(f) for f in await _frames(socket, 1)]
        assert hello["type"] == "connection"  # a new store: no alert in force
        for item, at in (("OLD", now - timedelta(hours=2)), ("NEW", now)):
            r = await client.post(url, json=frame(item, at), headers=headers)
            assert r.status_code == 204, r.text
        # Published in this order on one stream: had the old one been shown, it came first.
        (shown,) = [json.loads(f) for f in await _frames(socket, 1)]
        assert shown["item_code"] == "NEW"
