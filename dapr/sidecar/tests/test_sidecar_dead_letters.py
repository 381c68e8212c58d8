"""Dead letters and an idle sidecar (issue 22).

- A message the app drops goes to the subscription's dead-letter topic whole (the same
  CloudEvent, its id and original topic), as daprd does since 1.13; a message no routing rule
  matches is acknowledged and goes nowhere (daprd does not dead-letter it either).
- Idle is idle: a topic consumer looks at its pending list when a delivery was not taken (at
  the time its backoff ends), at start, and otherwise once per `max_backoff`; new entries are
  read with a long blocking read. Counted on the consumer's own Redis client, for real.
"""

import asyncio
import json
import time
import uuid
from collections import Counter
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request
from redis.asyncio import Redis

from kugelpos.sidecar import cloudevents
from kugelpos.sidecar.consumer import TopicConsumer
from kugelpos.sidecar.messages import StreamMessage
from kugelpos.sidecar.settings import AppTarget, Settings
from kugelpos.sidecar.subscriptions import Subscription


@pytest.fixture(scope="module")
def env(shared_stack_builder, fast_settings):
    suffix = uuid.uuid4().hex[:8]
    orders, dead = f"orders-{suffix}", f"orders-dead-{suffix}"
    stack = shared_stack_builder("dead-letters")
    alpha = stack.app(
        "alpha",
        [
            {
                "pubsubname": "pubsub",
                "topic": orders,
                # Only kind "a" is for this app; no default route.
                "routes": {"rules": [{"match": 'event.data.kind == "a"', "path": "/orders"}]},
                "deadLetterTopic": dead,
            },
            {"pubsubname": "pubsub", "topic": dead, "route": "/dead"},
        ],
    )
    alpha.start()
    sidecar = stack.start_sidecar(fast_settings)
    sidecar.wait_subscribed([("alpha", orders), ("alpha", dead)])
    yield SimpleNamespace(sidecar=sidecar, alpha=alpha, orders=orders, dead=dead)
    stack.stop()


def test_a_dropped_message_reaches_the_dead_letter_topic_whole(env, streams):
    key = uuid.uuid4().hex
    assert env.sidecar.publish(env.orders, {"key": key, "kind": "a", "reply": "drop"}).status_code
    (original,) = env.alpha.wait_deliveries(key, 1, "/orders")
    (dead,) = env.alpha.wait_deliveries(key, 1, "/dead")
    streams.wait_acked(env.orders, "alpha", key)
    streams.wait_acked(env.dead, "alpha", key)
    for field in ("id", "topic", "source", "type", "data"):
        assert dead["body"][field] == original["body"][field], field
    assert dead["body"]["topic"] == env.orders  # where it came from


def test_a_message_no_rule_matches_is_acknowledged_and_not_dead_lettered(env, streams):
    skipped, taken = uuid.uuid4().hex, uuid.uuid4().hex
    env.sidecar.publish(env.orders, {"key": skipped, "kind": "b"})
    env.sidecar.publish(env.orders, {"key": taken, "kind": "a"})
    env.alpha.wait_deliveries(taken, 1, "/orders")
    streams.wait_acked(env.orders, "alpha", skipped)
    streams.wait_acked(env.orders, "alpha", taken)
    assert env.alpha.deliveries(skipped) == []
    dead_letters = [f.get(b"data", b"") for _, f in streams.client.xrange(env.dead)]
    assert not any(skipped.encode() in data for data in dead_letters)


# ---- idle --------------------------------------------------------------------------------------


class Counting:
    """The consumer's Redis client, counting the commands it sends (by method)."""

    def __init__(self, redis: Redis) -> None:
        self.calls: Counter[str] = Counter()
        for name in ("xpending_range", "xreadgroup", "xclaim", "xgroup_create"):
            original = getattr(redis, name)

            def counted(*args: Any, _name: str = name, _original: Any = original, **kw: Any):
                self.calls[_name] += 1
                return _original(*args, **kw)

            setattr(redis, name, counted)


def subscriber(replies: dict[str, list[str]], seen: list[tuple[str, float]]) -> FastAPI:
    app = FastAPI()

    @app.post("/orders")
    async def orders(request: Request) -> dict[str, str]:
        key = (await request.json())["data"]["key"]
        seen.append((key, time.monotonic()))
        left = replies.get(key) or ["SUCCESS"]
        return {"status": left.pop(0) if len(left) > 1 else left[0]}

    return app


async def test_an_idle_topic_consumer_does_not_poll_redis(redis_url):
    topic = f"idle-{uuid.uuid4().hex[:8]}"
    redis = Redis.from_url(redis_url)
    counting = Counting(redis)
    replies: dict[str, list[str]] = {}
    seen: list[tuple[str, float]] = []
    http = httpx.AsyncClient(transport=httpx.ASGITransport(app=subscriber(replies, seen)))
    settings = Settings(redeliver_interval=0.2, max_backoff=30.0, processing_timeout=2.0)
    consumer = TopicConsumer(
        redis,
        http,
        settings,
        AppTarget("alpha", "http://alpha"),
        Subscription(app_id="alpha", pubsubname="pubsub", topic=topic, default_route="/orders"),
    )
    await consumer.ensure_group()
    consumer.start()
    try:
        await asyncio.sleep(6.5)
        # At start: one look at the pending list, then nothing; a blocking read of 4 s, one
        # second less than the Redis client's socket timeout (a longer one failed with a
        # timeout and the consumer recovered: its group created again).
        assert consumer.read_block_ms == 4000
        assert counting.calls["xpending_range"] <= 2, counting.calls
        assert counting.calls["xreadgroup"] <= 2, counting.calls
        assert counting.calls["xgroup_create"] == 1, counting.calls

        # A message the app does not take at first is redelivered after its backoff (0.2 s),
        # without a poll in between.
        key = uuid.uuid4().hex
        replies[key] = ["RETRY", "SUCCESS"]
        event = cloudevents.wrap_raw(json.dumps({"key": key}).encode(), topic=topic, pubsub="p")
        message = StreamMessage("0-0", json.dumps(event).encode(), False, "application/json")
        await redis.xadd(topic, message.to_fields())
        deadline = time.monotonic() + 5
        while len([k for k, _ in seen if k == key]) < 2:
            assert time.monotonic() < deadline, seen
            await asyncio.sleep(0.05)
        first, second = [t for k, t in seen if k == key]
        assert 0.18 <= second - first < 2.0
        deadline = time.monotonic() + 5
        while (await redis.xpending(topic, "alpha"))["pending"]:
            assert time.monotonic() < deadline
            await asyncio.sleep(0.05)

        # Idle again: no more looks at the pending list for the next seconds.
        looked = counting.calls["xpending_range"]
        await asyncio.sleep(2.0)
        assert counting.calls["xpending_range"] - looked <= 1, counting.calls
    finally:
        await consumer.stop()
        await http.aclose()
        await redis.delete(topic)
        await redis.aclose()
