"""Crashes mid-stream leave stock exactly as one application of each sale would."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from kugelpos.common.auth.tokens import TokenCodec
from kugelpos.devstack.stack import Stack
from kugelpos.registry.services import service

from .conftest import eventually, history, new_store, publish, quantity, setup_tenant, tranlog

SALES = 30


@pytest.fixture(scope="module")
def _private(stack_factory) -> Stack:
    # Quick redelivery: what is under test is exactly-once, not the sidecar's backoff.
    own = stack_factory(
        services=(service("stock"),),
        startup_timeout=180,
        sidecar_options=("--redeliver-interval", "0.5", "--max-backoff", "2"),
    )
    yield own
    own.stop()


@pytest.fixture
def private(_private: Stack) -> Stack:
    # One stack for the module, each test on a tenant of its own; whatever an earlier test
    # killed and did not bring back (it failed) is started again first.
    return _private.start()


async def _run(private: Stack, victim: str) -> None:
    codec = TokenCodec(private.secret_key)
    async with httpx.AsyncClient(base_url=private.url("stock"), timeout=30) as client:
        tenant = await setup_tenant(client, codec)
        store = new_store()
        events = [tranlog(tenant.tenant_id, store, [("F", 1), ("G", 2)]) for _ in range(SALES)]
        for event in events[: SALES // 2]:
            await publish(private, event)
        private.kill_component(victim)  # SIGKILL while deliveries are in flight
        if victim == "sidecar":
            await asyncio.to_thread(private.start_component, victim)
            rest = events[SALES // 2 :]
        else:
            rest = events[SALES // 2 :]
            for event in rest:  # the sidecar keeps them pending while stock is down
                await publish(private, event)
            rest = []
            await asyncio.to_thread(private.start_component, victim)
        for event in rest:
            await publish(private, event)
        # Republish everything once more, as the cart's relay does for unacknowledged logs.
        for event in events[:5]:
            await publish(private, event)
        f = await eventually(
            lambda: quantity(client, tenant, store, "F"), lambda q: q == -SALES, seconds=90
        )
        g = await eventually(
            lambda: quantity(client, tenant, store, "G"), lambda q: q == -2 * SALES, seconds=30
        )
        await asyncio.sleep(3)  # late redeliveries must change nothing
        assert (f, g) == (-SALES, -2 * SALES)
        assert await quantity(client, tenant, store, "F") == -SALES
        assert len(await history(client, tenant, store, "F")) == SALES
        assert len(await history(client, tenant, store, "G")) == SALES


async def test_stock_killed_mid_stream(private: Stack) -> None:
    await _run(private, "stock")


async def test_sidecar_killed_mid_stream(private: Stack) -> None:
    await _run(private, "sidecar")
