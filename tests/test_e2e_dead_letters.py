"""A poison event on a whole stack (issue 22): the stock service's handler raises (a bug) for
every log with one item in it (`kugelpos.testkit.poison`), with short retry settings.

Sales keep flowing around it (stock applies the others, a cancelled cart is dropped on
purpose); the poison is tried three times and lands in stock's dead letters; the cart's outbox
gives it up (no more republishing) and the stack goes quiet; once the "fix" is deployed (the
poison rule removed), the tenant admin replays it: applied once, a second replay changes
nothing, the outbox records it delivered. A manager may not replay.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from pymongo import AsyncMongoClient

from kugelpos.common.auth.tokens import TokenCodec
from kugelpos.devstack.pos import Register, open_shop
from kugelpos.devstack.stack import Stack
from kugelpos.registry.services import SERVICES
from kugelpos.testkit.poison import POISON_FILE
from kugelpos.testkit.testing import assert_error, assert_ok

POISON_ITEM = "4903"
TRIES = 3
DEADLINE = 60.0


def poisoned_services() -> tuple:
    return tuple(
        replace(spec, asgi="kugelpos.testkit.poison:stock") if spec.name == "stock" else spec
        for spec in SERVICES
    )


@pytest.fixture(scope="module")
def poison_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("poison") / "rules"
    path.write_text("")
    return path


@pytest.fixture(scope="module")
def poisoned_stack(stack_factory: Callable[..., Stack], poison_file: Path) -> Stack:
    return stack_factory(
        services=poisoned_services(),
        extra_env={
            "BCRYPT_ROUNDS": "4",
            POISON_FILE: str(poison_file),
            # Three tries: the second at once, the third a second later.
            "EVENT_RETRY_TRIES": str(TRIES),
            "EVENT_RETRY_BASE_SECONDS": "1",
            # Unacknowledged events are republished after 2 s (then 4 s).
            "OUTBOX_ACK_TIMEOUT_SECONDS": "2",
            "OUTBOX_ACK_TIMEOUT_MAX_SECONDS": "4",
            "OUTBOX_POLL_INTERVAL_SECONDS": "2",
        },
        sidecar_options=("--redeliver-interval", "0.3", "--max-backoff", "1"),
        startup_timeout=180,
    )


async def eventually[T](probe: Callable[[], Awaitable[T]], ok: Callable[[T], bool]) -> T:
    deadline = time.monotonic() + DEADLINE
    while True:
        value = await probe()
        if ok(value) or time.monotonic() > deadline:
            return value
        await asyncio.sleep(0.3)


def counters(text: str, name: str) -> dict[tuple[tuple[str, str], ...], float]:
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name:
                found[tuple(sorted(sample.labels.items()))] = sample.value
    return found


async def test_a_poison_event_is_dead_lettered_the_stack_goes_quiet_and_a_replay_applies_it(
    poisoned_stack: Stack, poison_file: Path
) -> None:
    stack = poisoned_stack
    async with httpx.AsyncClient(timeout=30) as client:
        urls = {spec.name: stack.url(spec.name) for spec in stack.services}
        shop = await open_shop(client, urls, terminals=1)
        till = shop.tills[0]
        register = Register(client, shop, till)
        tenant = f"/api/v1/tenants/{shop.tenant_id}"
        stock_url = shop.url("stock", f"{tenant}/stores/{shop.store_code}/stock")
        for code in ("4901", "4902", POISON_ITEM):
            r = await client.put(
                f"{stock_url}/{code}/update",
                headers=shop.admin,
                json={"quantityChange": 100, "updateType": "initial"},
            )
            assert_ok(r)

        async def stock() -> dict[str, float]:
            got = {}
            for code in ("4901", "4902", POISON_ITEM):
                r = await client.get(f"{stock_url}/{code}", headers=shop.admin)
                got[code] = float(assert_ok(r)["data"]["currentQuantity"])
            return got

        await asyncio.to_thread(poison_file.write_text, f"item:{POISON_ITEM}\n")
        await register.sale(("4901", 1))
        poison = await register.sale((POISON_ITEM, 1), ("4901", 1))
        cart_id = await register.create()  # a cart cancelled after an item: dropped by stock
        assert_ok(await register.add(cart_id, ("4902", 5)))
        assert_ok(await register.post(f"/{cart_id}/cancel"))
        await register.sale(("4902", 2))

        # The others flow around the poison: stock has every sale but the poisoned one.
        want = {"4901": 99.0, "4902": 98.0, POISON_ITEM: 100.0}
        assert await eventually(stock, lambda s: s == want) == want

        # The poison lands in stock's dead letters after its tries.
        letters_url = shop.url("stock", f"{tenant}/dead-letters")

        async def dead() -> list[dict[str, Any]]:
            r = await client.get(letters_url, headers=shop.admin, params={"state": "dead"})
            return assert_ok(r)["data"]

        (letter,) = await eventually(dead, lambda found: len(found) == 1)
        number = poison["transactionNo"]
        assert letter["naturalKey"].endswith(f":{shop.store_code}:1:{number}")
        assert letter["attempts"] == TRIES and letter["state"] == "dead"
        assert letter["lastError"].startswith("RuntimeError: poison event")
        event_id = letter["eventId"]
        detail = assert_ok(await client.get(f"{letters_url}/{event_id}", headers=shop.admin))
        assert detail["data"]["payload"]["transaction_no"] == number

        # The cart's outbox gave it up: stock will not take it, so it is not republished.
        cart_mongo = AsyncMongoClient(stack.mongo_uri_for("cart"), tz_aware=True)
        outbox = cart_mongo[stack.db_name("cart", "commons")]["outbox"]

        async def record() -> dict[str, Any]:
            return await outbox.find_one({"event_id": event_id})

        try:
            given_up = await eventually(record, lambda r: r["relay_status"] == "given_up")
            assert given_up["relay_status"] == "given_up"
            entries = {c["service_name"]: c for c in given_up["consumers"]}
            assert entries["stock"]["final"] is True
            assert {entries[n]["status"] for n in ("journal", "report")} == {"received"}

            # Quiet: nothing more reaches stock, nothing is republished.
            await asyncio.sleep(1.5)
            before = (await client.get(f"{stack.url('stock')}/metrics")).text
            published = (await record())["publish_count"]
            await asyncio.sleep(5)
            after = (await client.get(f"{stack.url('stock')}/metrics")).text
            consumed = "kugelpos_events_consumed_total"
            assert counters(after, consumed) == counters(before, consumed)
            assert (await record())["publish_count"] == published
            dead_letters = {
                dict(k)["topic"]: v
                for k, v in counters(after, consumed).items()
                if dict(k)["outcome"] == "dead_letter"
            }
            assert dead_letters == {"tranlog_report": 1.0}
            cart_metrics = (await client.get(f"{stack.url('cart')}/metrics")).text
            assert set(counters(cart_metrics, "kugelpos_outbox_given_up").values()) == {1.0}

            # Only the tenant's admin replays: a manager is refused, nothing changes.
            manager = TokenCodec(stack.secret_key).issue_user_token(
                username="manager",
                tenant_id=shop.tenant_id,
                is_superuser=False,
                roles=["manager"],
                lifetime=timedelta(hours=1),
            )
            replay_url = f"{letters_url}/{event_id}/replay"
            refused = await client.post(replay_url, headers={"Authorization": f"Bearer {manager}"})
            assert_error(refused, 403)
            assert await stock() == want

            # The fix is deployed; the admin replays it: applied once.
            await asyncio.to_thread(poison_file.write_text, "")
            replayed = assert_ok(await client.post(replay_url, headers=shop.admin))["data"]
            assert (replayed["outcome"], replayed["state"]) == ("applied", "replayed")
            want = {"4901": 98.0, "4902": 98.0, POISON_ITEM: 99.0}
            assert await stock() == want
            again = assert_ok(await client.post(replay_url, headers=shop.admin))["data"]
            assert again["outcome"] == "already_replayed"
            # The publisher was asked to publish it again (re-armed, no longer given up), and
            # stock's receipt delivered it. Whether the relay republished before that receipt
            # came depends on how the two acknowledgements were batched; a republish is a
            # duplicate for everyone either way, and a republish in flight when the receipt
            # lands shows `publishing` until it is marked: the record settles as delivered and
            # published.
            delivered = await eventually(
                record, lambda r: (r["status"], r["relay_status"]) == ("delivered", "published")
            )
            assert (delivered["status"], delivered["relay_status"]) == ("delivered", "published")
            assert delivered["rearmed_at"] is not None
            assert delivered["publish_count"] >= published
            await asyncio.sleep(2)
            assert await stock() == want
            assert assert_ok(await client.get(letters_url, headers=shop.admin))["data"] == []
        finally:
            await cart_mongo.close()
