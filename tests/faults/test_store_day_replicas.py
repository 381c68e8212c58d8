"""Two of everything (issue 29): the fault suite's store day (kugelpos.testkit.fault_day: sales,
returns, voids, gift cards sold and paid with, cash movements, open/close, the back office's receipt
and transfer, the poison event and its replay) at ten tills, with two replicas of every service,
each behind its own sidecar, sharing Redis and the service's MongoDB. The tills and the services
reach a service through the stack's round-robin front (`Stack.front_url`), as through a Kubernetes
Service.

1. A healthy day. Besides the day's own checks (each transaction once in journal, report and
   stock; every outbox event delivered): every outbox event was published exactly once (one
   relay, one stream entry); a daily stock snapshot due during the day ran once, on one
   replica; the services' cache notices reach the other replica: a price change made through
   master-data's second replica is sold at cart's first, the terminal's key rotated through
   terminal's first is refused at cart's second, a till closed through terminal's second cannot
   sell at cart's first, each within NOTICE_SECONDS (docs/master-data.md "Cache",
   docs/terminal.md "Checked live": the notice drops the entries at once; the TTLs only bound a
   lost notice); service invocation through a sidecar reaches both replicas of its target.
2. The day again with, at seeded random sales, one replica of each service SIGKILLed and
   restarted seconds later (the cart's during a bill, stock's during the transfer), and one
   replica cut off its MongoDB (its link killed) and reconnected; service invocation still
   answers while a replica is down; afterwards the front reaches both processes of every
   service again (the restarted ones rejoined). Nothing lost, nothing doubled; the fault
   table is printed.

KUGELPOS_FAULT_SEED=<n> replays a run (both days).
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest
from pymongo import AsyncMongoClient
from redis.asyncio import Redis

from kugelpos.devstack.pos import Register, Shop, add_till, open_till
from kugelpos.devstack.stack import Stack, mongo_link
from kugelpos.registry.services import SERVICES
from kugelpos.testkit.fault_day import (
    FAULT_ENV,
    POISON_ITEM,
    SIDECAR_OPTIONS,
    Day,
    Fault,
    poison_services,
    run_day,
    spread,
)
from kugelpos.testkit.poison import POISON_FILE
from kugelpos.testkit.pytest_plugin import external_mongodb_uri

TILLS = 10
SALES_PER_TILL = 5
NOTICE_SECONDS = 3.0
TIMEZONE = "Asia/Tokyo"  # the services' default (a schedule's hour and minute are local)
REPLICA_ENV = {k: v for k, v in FAULT_ENV.items() if not k.startswith("OUTBOX_ACK_TIMEOUT")} | {
    # No Redis is lost on these days: an event is published again only when a relay died
    # holding it (its lease), never because an acknowledgement is slow on a busy machine.
    "SNAPSHOT_SCHEDULER_POLL_SECONDS": "0.5",
    "SNAPSHOT_LEASE_SECONDS": "5",
    "TIMEZONE": TIMEZONE,
}
NAMES = tuple(spec.name for spec in SERVICES)


@dataclass
class Replicated:
    stack: Stack
    seed: int
    poison_file: Path
    linked: str  # the replica whose MongoDB connection the fault day cuts


@pytest.fixture(scope="module")
def replicated(
    stack_factory: Callable[..., Stack], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Replicated]:
    seed = int(os.environ.get("KUGELPOS_FAULT_SEED") or random.SystemRandom().randrange(10**6))
    poison_file = tmp_path_factory.mktemp("replicas") / "poison"
    poison_file.write_text(f"item:{POISON_ITEM}\n")
    external = external_mongodb_uri() is not None
    linked = f"{random.Random(seed).choice(NAMES)}.2"
    stack = stack_factory(
        services=poison_services(),
        replicas_per_service=2,
        mongo_links=() if external else (linked,),
        extra_env=REPLICA_ENV | {POISON_FILE: str(poison_file)},
        sidecar_options=SIDECAR_OPTIONS,
        startup_timeout=240,
    )
    yield Replicated(stack, seed, poison_file, "" if external else linked)


def _front(stack: Stack) -> dict[str, str]:
    return {name: stack.front_url(name) for name in NAMES}


def _printer(capsys: pytest.CaptureFixture[str]) -> Callable[[str], None]:
    def show(text: str) -> None:
        with capsys.disabled():
            print(text)

    return show


async def _outbox(stack: Stack, tenant_id: str) -> list[dict]:
    records = []
    for service in NAMES:
        mongo = AsyncMongoClient(stack.mongo_uri_for(service), tz_aware=True)
        try:
            found = mongo[stack.db_name(service, "commons")]["outbox"].find(
                {"tenant_id": tenant_id}, {"payload": 0}
            )
            records += [r | {"service": service} async for r in found]
        finally:
            await mongo.close()
    return records


async def _stream_entries(stack: Stack, topics: set[str]) -> Counter[str]:
    """How many times each CloudEvent id sits in the topics' Redis streams."""
    redis = Redis.from_url(stack.redis_url)
    seen: Counter[str] = Counter()
    try:
        for topic in topics:
            for _, fields in await redis.xrange(topic):
                try:
                    seen[json.loads(fields[b"data"])["id"]] += 1
                except (KeyError, ValueError):
                    continue
    finally:
        await redis.aclose()
    return seen


async def _schedule_snapshot_now(client: httpx.AsyncClient, stack: Stack, shop: Shop) -> None:
    """A daily stock snapshot of the shop's store due this very minute (the services' time
    zone): both stock replicas find it due."""
    now = datetime.now(ZoneInfo(TIMEZONE))
    if now.second >= 55:  # the minute could turn before the schedule is stored
        await asyncio.sleep(60 - now.second + 0.1)
        now = datetime.now(ZoneInfo(TIMEZONE))
    r = await client.put(
        f"{stack.front_url('stock')}/api/v1/tenants/{shop.tenant_id}/stock/snapshot-schedule",
        json={
            "enabled": True,
            "schedule_interval": "daily",
            "schedule_hour": now.hour,
            "schedule_minute": now.minute,
            "retention_days": 7,
            "target_stores": [shop.store_code],
        },
        headers=shop.admin,
    )
    assert r.status_code == 200, r.text


async def _snapshot_runs(stack: Stack, shop: Shop) -> tuple[list[dict], int]:
    mongo = AsyncMongoClient(stack.mongo_uri_for("stock"), tz_aware=True)
    try:
        db = mongo[stack.db_name("stock", shop.tenant_id)]
        runs = await db.snapshot_runs.find({}, {"_id": 0}).to_list(None)
        snapshots = await db.stock_snapshots.count_documents(
            {"store_code": shop.store_code, "created_by": "scheduled_system"}
        )
    finally:
        await mongo.close()
    return runs, snapshots


async def _until[T](
    probe: Callable[[], Awaitable[T]], ok: Callable[[T], bool], seconds: float
) -> T:
    deadline = time.monotonic() + seconds
    while True:
        value = await probe()
        if ok(value) or time.monotonic() > deadline:
            return value
        await asyncio.sleep(0.1)


async def _health_hits(client: httpx.AsyncClient, url: str) -> float:
    """Requests a service process served on GET /health (its latency histogram's count)."""
    text = (await client.get(f"{url}/metrics")).text
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith("http_request_duration_seconds_count")
        and 'route="/health"' in line
        and 'method="GET"' in line
    )


async def _invoke_health(client: httpx.AsyncClient, stack: Stack, sidecar: str, app: str) -> str:
    """GET /health of `app` through `sidecar`, as the cart (whose policy allows it): the
    app's status, or the sidecar's error code when it reached no replica."""
    r = await client.get(
        f"{sidecar}/v1.0/invoke/{app}/method/health", headers=stack.dapr_headers("cart")
    )
    if r.status_code >= 500 and "errorCode" in r.text:
        return str(r.json().get("errorCode"))
    return str(r.status_code)


async def _till_on(client: httpx.AsyncClient, stack: Stack, shop: Shop, number: int) -> Register:
    """One more till of the shop, opened through the fronts, ringing up at cart's first
    process (not through the front)."""
    till = await add_till(client, shop, number)
    await open_till(client, shop, till)
    at_first = replace(shop, urls=dict(shop.urls) | {"cart": stack.url("cart")})
    return Register(client, at_first, till)


async def _unit_price(register: Register, code: str) -> float:
    cart_id = await register.create()
    r = await register.add(cart_id, (code, 1))
    assert r.status_code == 200, r.text
    return r.json()["data"]["lineItems"][0]["unitPrice"]


async def _seconds_until(probe: Callable[[], Awaitable[bool]], what: str) -> float:
    """Seconds until `probe()` is true; fails past NOTICE_SECONDS."""
    start = time.monotonic()
    while not await probe():
        elapsed = time.monotonic() - start
        assert elapsed < NOTICE_SECONDS, f"{what}: not seen after {elapsed:.2f} s"
        await asyncio.sleep(0.05)
    return time.monotonic() - start


async def _caches_across_replicas(client: httpx.AsyncClient, stack: Stack, shop: Shop) -> list[str]:
    """A change made through one replica, its effect checked at another (see the docstring)."""
    (md2,) = stack.replicas_of("master-data")
    (cart2,) = stack.replicas_of("cart")
    (terminal2,) = stack.replicas_of("terminal")
    register = await _till_on(client, stack, shop, TILLS + 1)
    till = register.till
    item = next(i for i in shop.items if not i.restricted)
    assert await _unit_price(register, item.code) == item.price  # cached at cart's first
    base = f"/api/v1/tenants/{shop.tenant_id}/stores/{till.store_code}/items"
    r = await client.post(
        f"{md2.url}{base}",
        headers=shop.admin,
        json={"itemCode": item.code, "storePrice": item.price + 11},
    )
    assert r.status_code == 201, r.text

    async def priced() -> bool:
        return await _unit_price(register, item.code) == item.price + 11

    price = await _seconds_until(priced, "price set at master-data.2, sold at cart")

    # The key rotated through terminal's first process: the old key refused at cart's second.
    listed = f"/api/v1/tenants/{shop.tenant_id}/stores/{till.store_code}"
    listed += f"/terminals/{till.terminal_no}/transactions"

    async def read_at_cart2() -> httpx.Response:
        return await client.get(f"{cart2.url}{listed}", params=till.params, headers=till.headers)

    assert (await read_at_cart2()).status_code == 200  # the old key's approval, cached there
    r = await client.post(
        f"{stack.url('terminal')}/api/v1/terminals/{till.terminal_id}/api-key",
        headers=shop.admin,
    )
    assert r.status_code == 200, r.text
    new_key = r.json()["data"]["apiKey"]

    async def refused() -> bool:
        r = await read_at_cart2()
        assert r.status_code in (200, 401), r.text
        return r.status_code == 401 and r.json()["code"] == "200001"

    rotated = await _seconds_until(refused, "key rotated at terminal, old key at cart.2")

    # Closed through terminal's second process: cart's first refuses a sale there.
    till = replace(till, api_key=new_key)
    register = Register(client, register.shop, till)
    assert (await register.open_cart()).status_code == 201  # "open" cached with the new key
    r = await client.post(
        f"{terminal2.url}/api/v1/terminals/{till.terminal_id}/close",
        headers=till.headers,
        json={"physicalAmount": 10000},
    )
    assert r.status_code == 200, r.text

    async def closed() -> bool:
        r = await register.open_cart()
        assert r.status_code in (201, 400), r.text
        return r.status_code == 400 and r.json()["code"] == "404001"

    refused_sale = await _seconds_until(closed, "till closed at terminal.2, sale at cart")
    return [
        f"cache notices across replicas (bound {NOTICE_SECONDS:.0f} s): price at master-data.2 "
        f"sold at cart {price * 1000:.0f} ms; key rotated at terminal refused at cart.2 "
        f"{rotated * 1000:.0f} ms; till closed at terminal.2 refused at cart "
        f"{refused_sale * 1000:.0f} ms"
    ]


async def test_store_day_with_two_replicas_of_every_service(
    replicated: Replicated, capsys: pytest.CaptureFixture[str]
) -> None:
    stack, seed = replicated.stack, replicated.seed
    show = _printer(capsys)
    show(f"\nreplica day seed {seed} (KUGELPOS_FAULT_SEED={seed} replays it)")
    rng = random.Random(seed)
    scheduling: list[asyncio.Task[None]] = []

    async with httpx.AsyncClient(timeout=30) as client:

        def no_faults(day: Day) -> list[Fault]:
            # The shop exists, its day starts: a stock snapshot due now, during the day.
            task = asyncio.create_task(_schedule_snapshot_now(client, stack, day.shop))
            scheduling.append(task)
            return []

        started = time.monotonic()
        result = await run_day(
            stack,
            client,
            _front(stack),
            seed=seed,
            rng=rng,
            poison_file=replicated.poison_file,
            faults=no_faults,
            print_summary=show,
            tills=TILLS,
            sales_per_till=SALES_PER_TILL,
            title="store day, two replicas of every service",
        )
        shop = result.day.shop
        took = time.monotonic() - started
        # The snapshot due during the day: both stock replicas saw it due; one run, one
        # snapshot of the store.
        await scheduling[0]
        runs, snapshots = await _until(
            lambda: _snapshot_runs(stack, shop),
            lambda found: bool(found[0]) and all(r["status"] == "done" for r in found[0]),
            30,
        )
        await asyncio.sleep(2)  # both replicas keep polling the due schedule meanwhile
        runs, snapshots = await _snapshot_runs(stack, shop)
        assert len(runs) == 1 and snapshots == 1, f"seed {seed}: snapshot runs {runs}"
        assert runs[0]["done_stores"] == [shop.store_code], runs

        # Every outbox event published exactly once: one relay's publish, one stream entry.
        # Except the poison sale's: the admin's replay re-arms it (published again, by design).
        records = await _outbox(stack, shop.tenant_id)
        rearmed = [r for r in records if r.get("rearmed_at") is not None]
        assert len(rearmed) == 1, f"seed {seed}: re-armed {rearmed}"
        records = [r for r in records if r.get("rearmed_at") is None]
        assert len(records) > 2 * TILLS, f"seed {seed}: {len(records)} outbox events"
        twice = [r for r in records if r["publish_count"] != 1]
        assert twice == [], f"seed {seed}: published more than once {twice}"
        entries = await _stream_entries(stack, {r["topic"] for r in records})
        ids = [r["event_id"] for r in records]
        assert {i: entries[i] for i in ids} == dict.fromkeys(ids, 1), f"seed {seed}: streams"

        # Invocation through a sidecar reaches both replicas of its target.
        terminals = stack.replica_urls("terminal")
        before = [await _health_hits(client, url) for url in terminals]
        (cart2,) = stack.replicas_of("cart")
        for _ in range(6):
            assert await _invoke_health(client, stack, cart2.sidecar_url, "terminal") == "200"
        after = [await _health_hits(client, url) for url in terminals]
        spread_over = [b - a for a, b in zip(before, after, strict=True)]
        assert all(n >= 1 for n in spread_over) and sum(spread_over) == 6, spread_over

        notes = await _caches_across_replicas(client, stack, shop)
    show("\n".join([*notes, f"two-replica day: {took:.0f} s for the day and its checks"]))


def replica_faults(rng: random.Random, linked: str, total: int) -> list[Fault]:
    """One replica of each service SIGKILLed (which one: seeded), down 2-5 s, then restarted
    (in the background: the next fault need not wait for it); the cart's during a bill,
    stock's right after the transfer's POST, stored-value's right after a bill paid partly by
    gift card (its log on the way to capture the hold); and `linked`'s MongoDB link killed (its
    connections dropped) and restored."""
    faults = []
    for name in NAMES:
        process = rng.choice([name, f"{name}.2"])
        kind = {
            "cart": " mid-bill",
            "stock": " mid-transfer",
            "stored-value": " mid-capture",
        }.get(name, "")
        faults.append(
            Fault(
                f"kill {process}{kind}",
                process,
                mid_bill=name == "cart",
                mid_transfer=name == "stock",
                mid_capture=name == "stored-value",
            )
        )
    if linked:
        faults.append(Fault(f"drop mongo of {linked}", mongo_link(linked)))
    spread(rng, faults, total)
    for fault in faults:
        fault.down_seconds = round(rng.uniform(2.0, 5.0), 2)
        # Each service keeps one process up; the faults of different services overlap.
        fault.overlap = True
    return faults


async def test_store_day_with_a_replica_of_each_service_killed(
    replicated: Replicated, capsys: pytest.CaptureFixture[str]
) -> None:
    stack, seed = replicated.stack, replicated.seed
    show = _printer(capsys)
    show(f"\nreplica fault day seed {seed} (KUGELPOS_FAULT_SEED={seed} replays it)")
    rng = random.Random(seed + 1)
    await asyncio.to_thread(replicated.poison_file.write_text, f"item:{POISON_ITEM}\n")
    (cart2,) = stack.replicas_of("cart")
    answers: Counter[str] = Counter()
    stop = asyncio.Event()

    async with httpx.AsyncClient(timeout=30) as client:

        async def invoke_meanwhile() -> None:
            """Service invocation all day, through cart.2's sidecar: a terminal replica dies,
            yet every call is answered by a replica."""
            while not stop.is_set():
                answers[await _invoke_health(client, stack, cart2.sidecar_url, "terminal")] += 1
                await asyncio.sleep(0.2)

        invoker = asyncio.create_task(invoke_meanwhile())
        started = time.monotonic()
        try:
            await run_day(
                stack,
                client,
                _front(stack),
                seed=seed,
                rng=rng,
                poison_file=replicated.poison_file,
                faults=lambda _: replica_faults(rng, replicated.linked, TILLS * SALES_PER_TILL),
                print_summary=show,
                tills=TILLS,
                sales_per_till=SALES_PER_TILL,
                title="store day, two replicas, one of each killed",
                process_urls={
                    process: url
                    for name in NAMES
                    for process, url in zip(
                        (name, f"{name}.2"), stack.replica_urls(name), strict=True
                    )
                },
            )
        finally:
            stop.set()
            await invoker
        show(
            f"replica fault day: {time.monotonic() - started:.0f} s; invocations of terminal "
            f"through cart.2's sidecar meanwhile: {dict(answers)}"
        )
        # The restarted replicas rejoined: new connections through the front reach both
        # processes of every service again.
        unserved = {}
        for name in NAMES:
            processes = stack.replica_urls(name)
            before = [await _health_hits(client, url) for url in processes]
            async with httpx.AsyncClient(
                timeout=30, limits=httpx.Limits(max_keepalive_connections=0)
            ) as fresh:
                for _ in range(6):
                    assert (await fresh.get(f"{stack.front_url(name)}/health")).status_code == 200
            after = [await _health_hits(client, url) for url in processes]
            if any(b - a < 1 for a, b in zip(before, after, strict=True)):
                unserved[name] = [b - a for a, b in zip(before, after, strict=True)]
        assert unserved == {}, f"seed {seed}: a replica takes no connections {unserved}"
    # Every call reached a replica: 200, or the app's own 503 from a replica whose MongoDB was
    # cut off (it is alive and says it is unhealthy), never the sidecar's ERR_DIRECT_INVOKE.
    assert set(answers) <= {"200", "503"}, f"seed {seed}: invocation answers {dict(answers)}"
