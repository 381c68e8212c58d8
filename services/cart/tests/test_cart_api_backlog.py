"""Bills at several tills at once while the cart's relay republishes a backlog of events no
consumer acknowledges (report, journal and stock are not running): every sale succeeds, on the
memory engine the tests use and on the SQLite engine of `make run`."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import Callable, Iterator

import httpx
import pytest
import redis.asyncio as aioredis

from kugelpos.devstack.pos import Register, open_shop
from kugelpos.devstack.stack import Stack
from kugelpos.registry.services import service

TILLS = 4
SALES_PER_TILL = 3
BACKLOG = 12
# Every unacknowledged event is due again 0.2 s after each publish, with no pause between
# republishes: the relay republishes non-stop while the tills sell.
BACKLOG_ENV = {
    "BCRYPT_ROUNDS": "4",
    "OUTBOX_ACK_TIMEOUT_SECONDS": "0.2",
    "OUTBOX_ACK_TIMEOUT_MAX_SECONDS": "0.2",
    "OUTBOX_REPUBLISH_PAUSE_SECONDS": "0",
}
NAMES = ("account", "terminal", "master-data", "cart")
REPUBLISH_DEADLINE_SECONDS = 30


async def publications(stack: Stack) -> Counter[str]:
    redis = aioredis.from_url(stack.redis_url)
    try:
        counts: Counter[str] = Counter()
        for _, fields in await redis.xrange("tranlog_report"):
            counts[(json.loads(fields[b"data"]).get("data") or {}).get("event_id")] += 1
        return counts
    finally:
        await redis.aclose()


@pytest.fixture
def backlog_stack(engine: str, stack_factory: Callable[..., Stack]) -> Iterator[Stack]:
    stack = stack_factory(
        services=tuple(service(n) for n in NAMES), extra_env=BACKLOG_ENV, mongo_engine=engine
    )
    yield stack
    # Its relay republishes the unacknowledged backlog until it gives up: not during the
    # next test.
    stack.stop()


# Against an external MongoDB (MONGODB_URI) the engine means nothing: one run is enough.
@pytest.mark.parametrize(
    "engine", ["memory", pytest.param("sqlite", marks=pytest.mark.requires_embedded_mongo)]
)
async def test_concurrent_bills_while_the_relay_republishes_a_backlog(
    engine: str, backlog_stack: Stack
) -> None:
    stack = backlog_stack
    urls = {name: stack.url(name) for name in NAMES}
    async with httpx.AsyncClient(timeout=60) as client:
        shop = await open_shop(client, urls, terminals=TILLS)
        registers = [Register(client, shop, till) for till in shop.tills]
        code = next(item.code for item in shop.items if not item.restricted)
        for n in range(BACKLOG):
            await registers[n % TILLS].sale((code, 1))
        # The backlog is being republished before the rush starts. Each event is due again
        # 0.2 s after its publish; on a loaded machine the relay's first rounds can take
        # seconds, so the wait is a deadline, not a count of polls (it once ran out at 10 s).
        deadline = asyncio.get_running_loop().time() + REPUBLISH_DEADLINE_SECONDS
        while sum(1 for count in (await publications(stack)).values() if count > 1) < 5:
            assert asyncio.get_running_loop().time() < deadline, (
                "the relay is not republishing the backlog"
            )
            await asyncio.sleep(0.1)

        failures: list[str] = []

        async def till(register: Register) -> None:
            for _ in range(SALES_PER_TILL):
                try:
                    await register.sale((code, 1), (code, 2))
                except AssertionError as exc:  # a non-2xx answer, with its body
                    failures.append(str(exc))

        await asyncio.gather(*(till(r) for r in registers))
        assert failures == []
        expected = BACKLOG + TILLS * SALES_PER_TILL
        for _ in range(300):  # every sale's event goes out (new events before the backlog)
            counts = await publications(stack)
            if len(counts) == expected:
                break
            await asyncio.sleep(0.1)
        assert len(counts) == expected
        assert sum(counts.values()) > len(counts)  # and the backlog went on being republished
