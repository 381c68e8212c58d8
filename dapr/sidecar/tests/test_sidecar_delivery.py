"""Delivery semantics of Dapr's pub/sub: what a subscriber's answer does to a message.

2xx with an empty body or {"status": "SUCCESS"} acks; {"status": "RETRY"}, other non-2xx
statuses and timeouts redeliver with backoff; {"status": "DROP"} and 404 ack and drop, to the
dead-letter topic when the subscription names one. Each app has its own consumer group.
"""

import itertools
import uuid
from types import SimpleNamespace

import pytest

BASE_BACKOFF = 0.2  # --redeliver-interval of FAST_SETTINGS
MAX_BACKOFF = 1.0  # --max-backoff of FAST_SETTINGS


@pytest.fixture(scope="module")
def env(shared_stack_builder, fast_settings):
    suffix = uuid.uuid4().hex[:8]
    orders, dead = f"orders-{suffix}", f"orders-dead-{suffix}"
    stack = shared_stack_builder("delivery")
    alpha = stack.app(
        "alpha",
        [
            {
                "pubsubname": "pubsub",
                "topic": orders,
                "route": "/orders",
                "deadLetterTopic": dead,
            },
            {"pubsubname": "pubsub", "topic": dead, "route": "/dead"},
        ],
    )
    beta = stack.app("beta", [{"pubsubname": "pubsub", "topic": orders, "route": "/orders"}])
    alpha.start()
    beta.start()
    sidecar = stack.start_sidecar(fast_settings)
    sidecar.wait_subscribed([("alpha", orders), ("alpha", dead), ("beta", orders)])
    yield SimpleNamespace(sidecar=sidecar, alpha=alpha, beta=beta, orders=orders, dead=dead)
    stack.stop()


def publish(env, **data):
    key = uuid.uuid4().hex
    response = env.sidecar.publish(env.orders, {"key": key, **data})
    assert response.status_code == 204
    return key


def test_every_app_gets_its_own_copy(env, streams):
    key = publish(env)
    env.alpha.wait_deliveries(key, 1)
    env.beta.wait_deliveries(key, 1)
    groups = {g["name"].decode() for g in streams.client.xinfo_groups(env.orders)}
    assert {"alpha", "beta"} <= groups
    streams.wait_acked(env.orders, "alpha", key)
    streams.wait_acked(env.orders, "beta", key)
    assert len(env.alpha.deliveries(key)) == 1
    assert len(env.beta.deliveries(key)) == 1


@pytest.mark.parametrize("reply", ["success", "empty"])
def test_success_or_empty_2xx_acks(env, streams, reply):
    key = publish(env, reply=reply)
    env.alpha.wait_deliveries(key, 1)
    streams.wait_acked(env.orders, "alpha", key)
    assert len(env.alpha.deliveries(key, "/orders")) == 1


@pytest.mark.parametrize("reply", ["retry", "error"])
def test_retry_and_server_error_are_redelivered_until_success(env, streams, reply):
    key = publish(env, reply={"alpha": reply}, times=2)
    deliveries = env.alpha.wait_deliveries(key, 3, "/orders")
    assert [d["attempt"] for d in deliveries] == [1, 2, 3]
    streams.wait_acked(env.orders, "alpha", key)
    # Each delivery is the same event.
    assert len({d["body"]["id"] for d in deliveries}) == 1


def test_redelivery_backs_off_exponentially_up_to_the_cap(env, streams):
    key = publish(env, reply={"alpha": "retry"}, times=4)
    deliveries = env.alpha.wait_deliveries(key, 5, "/orders", timeout=15)
    streams.wait_acked(env.orders, "alpha", key)
    gaps = [b["ts"] - a["ts"] for a, b in itertools.pairwise(deliveries[:5])]
    expected = [min(BASE_BACKOFF * 2**n, MAX_BACKOFF) for n in range(4)]  # 0.2 0.4 0.8 1.0
    for gap, minimum in zip(gaps, expected, strict=True):
        assert gap >= minimum * 0.95, (gaps, expected)


def test_apps_are_independent(env, streams):
    # alpha keeps asking for a retry while beta takes the message at once.
    key = publish(env, reply={"alpha": "retry"}, times=3)
    env.beta.wait_deliveries(key, 1)
    streams.wait_acked(env.orders, "beta", key)
    env.alpha.wait_deliveries(key, 4, "/orders")
    streams.wait_acked(env.orders, "alpha", key)
    assert len(env.beta.deliveries(key)) == 1


@pytest.mark.parametrize("reply", ["drop", "notfound"])
def test_drop_and_404_ack_and_go_to_the_dead_letter_topic(env, streams, reply):
    key = publish(env, reply=reply)
    (dead,) = env.alpha.wait_deliveries(key, 1, "/dead")
    streams.wait_acked(env.orders, "alpha", key)
    streams.wait_acked(env.dead, "alpha", key)
    assert len(env.alpha.deliveries(key, "/orders")) == 1
    assert dead["body"]["data"]["key"] == key
    # beta has no dead-letter topic: it drops the message (acks it), nothing else.
    streams.wait_acked(env.orders, "beta", key)
    assert len(env.beta.deliveries(key)) == 1


def test_a_delivery_past_the_processing_timeout_is_redelivered(env, streams):
    key = publish(env, reply={"alpha": "hang"}, times=1)
    deliveries = env.alpha.wait_deliveries(key, 2, "/orders", timeout=15)
    assert deliveries[1]["ts"] - deliveries[0]["ts"] >= 2.0  # --processing-timeout
    streams.wait_acked(env.orders, "alpha", key)
