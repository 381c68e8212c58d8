"""What an operator watches, read from `/metrics` of the running services: a bill moves the
cart's transaction counters by exactly one and its amount (and its void likewise), the
consumers count the event they applied, every service shows process metrics, and a
publisher's outbox backlog rises while the sidecar is down and returns to zero once it is back
(with the breaker open meanwhile)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from kugelpos.common.auth.tokens import TokenCodec
from kugelpos.devstack.pos import Register, open_shop
from kugelpos.devstack.stack import SIDECAR, Stack
from kugelpos.registry.services import SERVICES, service
from kugelpos.testkit.testing import assert_ok, new_tenant_id

TOPIC = "tranlog_report"
CONSUMERS = ("report", "journal", "stock")

type Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


async def scrape(client: httpx.AsyncClient, url: str) -> Samples:
    r = await client.get(f"{url}/metrics")
    assert r.status_code == 200, r.text
    found: Samples = {}
    for family in text_string_to_metric_families(r.text):
        for sample in family.samples:
            found[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return found


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


async def eventually(check: Callable[[], Awaitable[bool]], within: float = 20.0) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while not await check():
        assert asyncio.get_running_loop().time() < deadline, "condition not met in time"
        await asyncio.sleep(0.2)


# ---- the session stack -----------------------------------------------------------------------


async def test_a_bill_and_its_void_are_counted_once_and_applied_by_each_consumer(
    stack: Stack,
) -> None:
    urls = {spec.name: stack.url(spec.name) for spec in SERVICES}
    async with httpx.AsyncClient(timeout=30) as client:
        shop = await open_shop(client, urls)
        register = Register(client, shop, shop.tills[0])
        before = await scrape(client, urls["cart"])
        applied_before = {
            name: value(
                await scrape(client, urls[name]),
                "kugelpos_events_consumed_total",
                service=name,
                topic=TOPIC,
                outcome="applied",
            )
            for name in CONSUMERS
        }

        cart_id = await register.create()
        assert_ok(await register.add(cart_id, ("4901", 1), ("4902", 2)))
        total = assert_ok(await register.subtotal(cart_id))["data"]["totalAmountWithTax"]
        assert_ok(await register.pay(cart_id, ("01", int(total))))
        billed = assert_ok(await register.bill(cart_id, key=f"bill-{cart_id}"))["data"]
        # The till retrying the bill (its answer lost) records and counts nothing more.
        again = assert_ok(await register.bill(cart_id, key=f"bill-{cart_id}"))["data"]
        assert again["transactionNo"] == billed["transactionNo"]

        after = await scrape(client, urls["cart"])
        sale = {"service": "cart", "type": "sale"}
        counted = value(after, "kugelpos_transactions_total", **sale) - value(
            before, "kugelpos_transactions_total", **sale
        )
        amount = value(after, "kugelpos_transaction_amount_total", **sale) - value(
            before, "kugelpos_transaction_amount_total", **sale
        )
        assert counted == 1
        assert amount == pytest.approx(billed["totalAmountWithTax"])

        # A void of the sale is counted as one, with the amount it reverses (positive).
        url = register.transactions_url(f"/{billed['transactionNo']}/void")
        r = await client.post(
            url,
            params=register.till.params,
            headers=register.till.headers,
            json=[{"paymentCode": "01", "amount": int(total)}],
        )
        assert_ok(r)
        voided = await scrape(client, urls["cart"])
        void = {"service": "cart", "type": "void_sale"}
        assert (
            value(voided, "kugelpos_transactions_total", **void)
            - value(after, "kugelpos_transactions_total", **void)
            == 1
        )
        assert value(voided, "kugelpos_transaction_amount_total", **void) - value(
            after, "kugelpos_transaction_amount_total", **void
        ) == pytest.approx(total)
        assert value(voided, "kugelpos_transactions_total", **sale) == value(
            after, "kugelpos_transactions_total", **sale
        )

        for name in CONSUMERS:

            async def applied(name: str = name) -> bool:
                samples = await scrape(client, urls[name])
                count = value(
                    samples,
                    "kugelpos_events_consumed_total",
                    service=name,
                    topic=TOPIC,
                    outcome="applied",
                )
                return count > applied_before[name] and (
                    value(samples, "kugelpos_event_age_seconds_count", service=name, topic=TOPIC)
                    > 0
                )

            await eventually(applied)


async def test_every_service_shows_process_metrics(stack: Stack) -> None:
    async with httpx.AsyncClient(timeout=30) as client:
        for spec in SERVICES:
            samples = await scrape(client, stack.url(spec.name))
            names = {name for name, _ in samples}
            wanted = {"process_cpu_seconds_total", "process_resident_memory_bytes"}
            assert wanted | {"process_open_fds", "python_info"} <= names, spec.name
            assert value(samples, "process_resident_memory_bytes") > 0


# ---- a private stack: the terminal alone, its sidecar stopped ----------------------------------

OUTAGE_ENV = {
    # Recover from a stopped sidecar in about a second instead of a minute.
    "BREAKER_RESET_SECONDS": "1",
    "OUTBOX_RETRY_MAX_SECONDS": "1",
    "OUTBOX_POLL_INTERVAL_SECONDS": "0.2",
    "HTTP_MAX_ATTEMPTS": "1",
    # No consumer runs here: an event is done once published, so the backlog can reach 0
    # ("," is an empty list; an empty value would leave the default).
    "CASHLOG_CONSUMERS": ",",
    "OPENCLOSELOG_CONSUMERS": ",",
    "TENANT_SETUP_SERVICES": ",",
    # Every scrape reads the outbox (the default caches for 5 s).
    "METRICS_OUTBOX_INTERVAL_SECONDS": "0",
}


async def test_outbox_backlog_rises_while_the_sidecar_is_down(
    stack_factory: Callable[..., Stack],
) -> None:
    own = stack_factory(services=(service("terminal"),), extra_env=OUTAGE_ENV)
    url = own.url("terminal")
    tenant_id = new_tenant_id("TM")
    token = TokenCodec(own.secret_key).issue_user_token(
        username="tester",
        tenant_id=tenant_id,
        is_superuser=False,
        roles=["admin"],
        lifetime=timedelta(minutes=30),
    )
    admin = {"Authorization": f"Bearer {token}"}
    labels = {"service": "terminal"}
    sidecar = {"service": "terminal", "target": own.sidecar_url}

    async with httpx.AsyncClient(base_url=url, timeout=30) as client:
        body = {"tenantId": tenant_id, "tenantName": "x"}
        assert_ok(await client.post("/api/v1/tenants", headers=admin, json=body), 201)
        body = {"storeCode": "S1", "storeName": "Store"}
        r = await client.post(f"/api/v1/tenants/{tenant_id}/stores", headers=admin, json=body)
        assert_ok(r, 201)
        body = {"storeCode": "S1", "terminalNo": 1, "description": "x"}
        data = assert_ok(await client.post("/api/v1/terminals", headers=admin, json=body), 201)
        terminal_id, key = data["data"]["terminalId"], {"X-API-KEY": data["data"]["apiKey"]}

        async def backlog(pending: float, unacknowledged: float = 0.0) -> Samples | None:
            samples = await scrape(client, url)
            got = (
                value(samples, "kugelpos_outbox_backlog", state="pending", **labels),
                value(samples, "kugelpos_outbox_backlog", state="unacknowledged", **labels),
            )
            return samples if got == (pending, unacknowledged) else None

        async def idle() -> bool:
            samples = await backlog(0)
            return samples is not None and (
                value(samples, "kugelpos_outbox_oldest_unacknowledged_seconds", **labels) == 0
                and value(samples, "kugelpos_breaker_state", **sidecar) == 0
            )

        await eventually(idle)
        own.stop_component(SIDECAR)
        try:
            r = await client.post(
                f"/api/v1/terminals/{terminal_id}/open", headers=key, json={"initialAmount": 100}
            )
            assert_ok(r)  # the open and its two events (open, float) commit without Dapr

            async def stuck() -> bool:
                samples = await backlog(2)
                return samples is not None and (
                    value(samples, "kugelpos_outbox_oldest_unacknowledged_seconds", **labels) > 1
                    and value(samples, "kugelpos_breaker_state", **sidecar) == 2
                )

            await eventually(stuck)
        finally:
            own.start_component(SIDECAR)
        await eventually(idle)
        samples = await scrape(client, url)
        assert value(samples, "kugelpos_breaker_trips_total", **sidecar) >= 1
