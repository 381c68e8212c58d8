"""Two stock replicas, each behind its own local sidecar, sharing Redis and stock's MongoDB:
what they must share works across processes (§B7 alert fan-out and cooldown, §B9 lease).

A private stack (stock only) plus one more stock process and sidecar from
`Stack.add_replica`, so a broadcast travels Redis streams between two sidecars as it would
between two pods. The schedulers poll every 0.2 s with a 3 s lease, so a job is due at once and
a dead lease holder is replaced within seconds.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
import websockets
from pymongo import AsyncMongoClient

from kugelpos.common.auth.tokens import TokenCodec
from kugelpos.devstack.stack import Stack
from kugelpos.registry.services import service
from kugelpos.testkit.testing import assert_ok, new_tenant_id

from .conftest import Tenant, new_store

POLL_SECONDS = 0.2
LEASE_SECONDS = 3
TIMEZONE = "Asia/Tokyo"  # the services' default app time zone (schedules are local times)
SCHEDULED_BY = "scheduled_system"


@dataclass
class Replica:
    name: str  # component name in the stack (kill_component / start_component)
    url: str
    sidecar_url: str

    @property
    def ws(self) -> str:
        return self.url.replace("http", "ws", 1)


@dataclass
class Pair:
    stack: Stack
    a: Replica
    b: Replica
    codec: TokenCodec

    @property
    def replicas(self) -> tuple[Replica, Replica]:
        return (self.a, self.b)


async def _subscribed(sidecar_url: str, topic: str, headers: dict[str, str]) -> bool:
    async with httpx.AsyncClient(timeout=10, headers=headers) as c:
        groups = (await c.get(f"{sidecar_url}/v1.0/metadata")).json()["consumerGroups"]
    return any(g["topic"] == topic for g in groups)


async def until[T](probe: Callable[[], Awaitable[T]], what: str, seconds: float = 20.0) -> T:
    """Polls until `probe()` is truthy; fails with `what` after `seconds`."""
    deadline = time.monotonic() + seconds
    while True:
        value = await probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {seconds}s waiting for {what}")
        await asyncio.sleep(0.05)


@pytest.fixture(scope="module")
def pair(stack_factory: Callable[..., Stack]) -> Iterator[Pair]:
    stack = stack_factory(
        services=(service("stock"),),
        extra_env={
            "SNAPSHOT_SCHEDULER_POLL_SECONDS": str(POLL_SECONDS),
            "SNAPSHOT_LEASE_SECONDS": str(LEASE_SECONDS),
            "TIMEZONE": TIMEZONE,
        },
    )
    extra = stack.add_replica("stock")
    yield Pair(
        stack=stack,
        a=Replica("stock", stack.url("stock"), stack.sidecar_url),
        b=Replica(extra.name, extra.url, extra.sidecar_url),
        codec=TokenCodec(stack.secret_key),
    )


async def _tenant(client: httpx.AsyncClient, codec: TokenCodec) -> Tenant:
    tenant = Tenant(new_tenant_id(), codec)
    r = await client.post(
        "/api/v1/tenants", json={"tenantId": tenant.tenant_id}, headers=tenant.admin
    )
    assert r.status_code == 201, r.text
    return tenant


async def _update(client: httpx.AsyncClient, tenant: Tenant, store: str, item: str, change) -> None:
    assert_ok(
        await client.put(
            tenant.stock(store, f"/{item}/update"),
            json={"quantityChange": change, "updateType": "adjustment"},
            headers=tenant.admin,
        )
    )


async def _frame(socket: Any, seconds: float = 10.0) -> dict[str, Any]:
    async with asyncio.timeout(seconds):
        return json.loads(await socket.recv())


async def test_an_alert_caused_on_one_replica_reaches_a_socket_on_the_other(pair: Pair) -> None:
    # Each sidecar answers the stock service's own Dapr API token.
    headers = pair.stack.dapr_headers("stock")
    for replica in pair.replicas:
        await until(
            lambda r=replica: _subscribed(r.sidecar_url, "stock_alerts", headers), "subscription"
        )
    async with (
        httpx.AsyncClient(base_url=pair.a.url, timeout=30) as on_a,
        httpx.AsyncClient(base_url=pair.b.url, timeout=30) as on_b,
    ):
        tenant = await _tenant(on_a, pair.codec)
        store = new_store()
        await _update(on_a, tenant, store, "R", 20)
        assert_ok(
            await on_a.put(
                tenant.stock(store, "/R/reorder"),
                json={"reorderPoint": 10, "reorderQuantity": 30},
                headers=tenant.admin,
            )
        )
        assert_ok(
            await on_a.put(
                tenant.stock(store, "/M/minimum"), json={"minimumQuantity": 2}, headers=tenant.admin
            )
        )
        await _update(on_a, tenant, store, "M", 5)
        path = f"/api/v1/ws/{tenant.tenant_id}/{store}?token={tenant.token}"
        async with (
            websockets.connect(pair.a.ws + path) as socket_a,
            websockets.connect(pair.b.ws + path) as socket_b,
        ):
            for socket in (socket_a, socket_b):
                # Nothing is below a threshold yet: the greeting only.
                assert (await _frame(socket))["type"] == "connection"
            # Crossing the reorder point through B: A's socket hears of it through the
            # broadcast (and so does B's own).
            await _update(on_b, tenant, store, "R", -15)
            for socket in (socket_a, socket_b):
                alert = await _frame(socket)
                assert alert["type"] == "stock_alert"
                assert alert["alert_type"] == "reorder_point"
                assert (alert["tenant_id"], alert["store_code"]) == (tenant.tenant_id, store)
                assert alert["item_code"] == "R"
                assert alert["current_quantity"] == 5
                assert alert["reorder_point"] == 10 and alert["reorder_quantity"] == 30
                assert alert["timestamp"]
            # A second crossing of R, now through A, is within the cooldown B started: no
            # alert. An alert of another item, sent after it, is the next frame either socket
            # gets, so R's would have been seen first had A sent one.
            await _update(on_a, tenant, store, "R", -1)
            await _update(on_a, tenant, store, "M", -4)
            for socket in (socket_a, socket_b):
                alert = await _frame(socket)
                assert (alert["alert_type"], alert["item_code"]) == ("minimum_stock", "M"), alert
                assert alert["current_quantity"] == 1 and alert["minimum_quantity"] == 2
            with pytest.raises(TimeoutError):
                await _frame(socket_a, seconds=1.0)


# ---- the snapshot scheduler's lease -------------------------------------------------------


async def _health(replica: Replica) -> dict[str, Any]:
    async with httpx.AsyncClient(timeout=10) as c:
        body = (await c.get(f"{replica.url}/health")).json()
    return body["checks"]["snapshot_scheduler"]["details"]


async def _schedule_due_now(client: httpx.AsyncClient, tenant: Tenant, stores: list[str]) -> None:
    """A daily schedule at this very minute (app time zone): due at once for both replicas."""
    now = datetime.now(ZoneInfo(TIMEZONE))
    if now.second >= 55:  # the minute could turn before the schedule is stored
        await asyncio.sleep(60 - now.second + 0.1)
        now = datetime.now(ZoneInfo(TIMEZONE))
    assert_ok(
        await client.put(
            f"{tenant.base}/stock/snapshot-schedule",
            json={
                "enabled": True,
                "schedule_interval": "daily",
                "schedule_hour": now.hour,
                "schedule_minute": now.minute,
                "retention_days": 7,
                "target_stores": stores,
            },
            headers=tenant.admin,
        )
    )


class TenantDb:
    """The tenant's stock database, read directly: what the scheduler wrote."""

    def __init__(self, stack: Stack, tenant_id: str) -> None:
        self.client: AsyncMongoClient = AsyncMongoClient(stack.mongo_uri_for("stock"))
        self.db = self.client[stack.db_name("stock", tenant_id)]

    async def runs(self) -> list[dict[str, Any]]:
        return await self.db.snapshot_runs.find({}, {"_id": 0}).to_list(None)

    async def scheduled_per_store(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        async for doc in self.db.stock_snapshots.find({"created_by": SCHEDULED_BY}):
            counts[doc["store_code"]] = counts.get(doc["store_code"], 0) + 1
        return counts

    async def close(self) -> None:
        await self.client.close()


async def test_exactly_one_replica_runs_a_due_snapshot_job(pair: Pair) -> None:
    async with httpx.AsyncClient(base_url=pair.a.url, timeout=30) as client:
        tenant = await _tenant(client, pair.codec)
        stores = [new_store() for _ in range(3)]
        await _update(client, tenant, stores[0], "A", 4)
        db = TenantDb(pair.stack, tenant.tenant_id)
        try:
            await _schedule_due_now(client, tenant, stores)
            (run,) = await until(
                lambda: _done(db), "the scheduled run to finish", seconds=LEASE_SECONDS + 15
            )
            # Both replicas kept polling the due schedule meanwhile, and a few more times.
            before = [await _health(r) for r in pair.replicas]
            await until(lambda: _polled_since(pair, before, polls=3), "more polls of both replicas")
            assert len(await db.runs()) == 1
            assert sorted(run["done_stores"]) == sorted(stores) and run["failed_stores"] == []
            assert await db.scheduled_per_store() == dict.fromkeys(stores, 1)
            owners = {(await _health(r))["owner"] for r in pair.replicas}
            assert run["owner"] in owners and len(owners) == 2
            row = (await db.db.stock_snapshots.find_one({"store_code": stores[0]}))["stocks"]
            assert [item["item_code"] for item in row] == ["A"]
        finally:
            await db.close()


async def _done(db: TenantDb) -> list[dict[str, Any]] | None:
    runs = await db.runs()
    return runs if runs and all(r["status"] == "done" for r in runs) else None


async def _polled_since(pair: Pair, before: list[dict[str, Any]], polls: int) -> bool:
    """Each replica has polled `polls` intervals after `before` was taken."""
    for replica, earlier in zip(pair.replicas, before, strict=True):
        last = (await _health(replica))["last_poll"]
        elapsed = datetime.fromisoformat(last) - datetime.fromisoformat(earlier["last_poll"])
        if elapsed.total_seconds() < polls * POLL_SECONDS:
            return False
    return True


async def test_a_killed_lease_holder_is_replaced_once_its_lease_expires(pair: Pair) -> None:
    async with httpx.AsyncClient(base_url=pair.a.url, timeout=30) as client:
        tenant = await _tenant(client, pair.codec)
        # Enough stores that the run is still going when the test kills its holder.
        stores = [f"K{i:03d}" for i in range(60)]
        db = TenantDb(pair.stack, tenant.tenant_id)
        killed: Replica | None = None
        try:
            # Known beforehand, so the kill follows the claim as closely as the polling allows.
            owners = {(await _health(r))["owner"]: r for r in pair.replicas}
            await _schedule_due_now(client, tenant, stores)
            (run,) = await until(db.runs, "a replica to claim the run", seconds=15)
            killed = owners[run["owner"]]
            assert pair.stack.kill_component(killed.name)  # SIGKILL mid-run
            (at_kill,) = await db.runs()
            assert at_kill["status"] == "running", "the run ended before the kill: add stores"
            assert len(at_kill["done_stores"]) < len(stores)
            survivor = next(r for r in pair.replicas if r is not killed)
            (done,) = await until(
                lambda: _done(db), "the survivor to finish", seconds=LEASE_SECONDS + 20
            )
            assert done["owner"] == (await _health(survivor))["owner"]
            assert sorted(done["done_stores"]) == sorted(stores)
            counts = await db.scheduled_per_store()
            assert set(counts) == set(stores)
            # At most the one store whose snapshot was written as the holder died, before it
            # could be marked done, is snapshotted twice (at-least-once per store).
            assert sum(n - 1 for n in counts.values()) <= 1
        finally:
            await db.close()
            if killed is not None:  # the module's other tests expect two replicas
                pair.stack.start_component(killed.name)
