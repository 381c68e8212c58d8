"""At-least-once across crashes: a message in flight when the subscriber or the sidecar dies is
delivered again once it is back. Apps that start late, or change their subscriptions, are found."""

import uuid


def orders_subscription(topic: str) -> list[dict[str, str]]:
    return [{"pubsubname": "pubsub", "topic": topic, "route": "/orders"}]


def test_message_survives_a_subscriber_killed_mid_delivery(make_stack, unique, streams):
    topic = unique("orders")
    stack = make_stack()
    alpha = stack.app("alpha", orders_subscription(topic))
    alpha.start()
    sidecar = stack.start_sidecar()
    sidecar.wait_subscribed([("alpha", topic)])
    key = uuid.uuid4().hex
    # The first delivery never gets an answer: the subscriber is killed while handling it.
    assert sidecar.publish(topic, {"key": key, "reply": "hang", "times": 1}).status_code == 204
    alpha.wait_deliveries(key, 1)
    alpha.process.kill()
    entry = streams.entry_id(topic, key)
    assert streams.pending(topic, "alpha", entry)
    alpha.start()
    deliveries = alpha.wait_deliveries(key, 2, timeout=15)
    assert [d["attempt"] for d in deliveries] == [1, 2]
    streams.wait_acked(topic, "alpha", key)


def test_messages_published_while_the_subscriber_is_down_arrive_later(make_stack, unique, streams):
    topic = unique("orders")
    stack = make_stack()
    alpha = stack.app("alpha", orders_subscription(topic))
    alpha.start()
    sidecar = stack.start_sidecar()
    sidecar.wait_subscribed([("alpha", topic)])
    alpha.process.stop()
    keys = [uuid.uuid4().hex for _ in range(3)]
    for key in keys:
        assert sidecar.publish(topic, {"key": key}).status_code == 204
    alpha.start()
    for key in keys:
        alpha.wait_deliveries(key, 1, timeout=15)
        streams.wait_acked(topic, "alpha", key)


def test_pending_message_is_redelivered_after_a_sidecar_restart(make_stack, unique, streams):
    topic = unique("orders")
    stack = make_stack()
    alpha = stack.app("alpha", orders_subscription(topic))
    alpha.start()
    sidecar = stack.start_sidecar()
    sidecar.wait_subscribed([("alpha", topic)])
    key = uuid.uuid4().hex
    sidecar.publish(topic, {"key": key, "reply": "hang", "times": 1})
    alpha.wait_deliveries(key, 1)
    # The sidecar dies with the delivery in flight: only Redis knows the message is pending.
    sidecar.process.kill()
    assert streams.pending(topic, "alpha", streams.entry_id(topic, key))
    sidecar.start()
    deliveries = alpha.wait_deliveries(key, 2, timeout=15)
    assert [d["attempt"] for d in deliveries] == [1, 2]
    streams.wait_acked(topic, "alpha", key)


def test_an_app_started_after_the_sidecar_is_discovered(make_stack, unique, streams):
    topic = unique("orders")
    stack = make_stack()
    alpha = stack.app("alpha", orders_subscription(topic))
    sidecar = stack.start_sidecar()  # alpha is not listening yet
    assert not sidecar.subscribed("alpha", topic)
    alpha.start()
    sidecar.wait_subscribed([("alpha", topic)])
    key = uuid.uuid4().hex
    sidecar.publish(topic, {"key": key})
    alpha.wait_deliveries(key, 1)
    streams.wait_acked(topic, "alpha", key)


def test_a_restarted_app_with_new_subscriptions_is_picked_up(make_stack, unique, streams):
    first, second = unique("first"), unique("second")
    stack = make_stack()
    alpha = stack.app("alpha", orders_subscription(first))
    alpha.start()
    sidecar = stack.start_sidecar()
    sidecar.wait_subscribed([("alpha", first)])
    alpha.process.stop()
    alpha.reconfigure(orders_subscription(second))
    alpha.start()
    sidecar.wait_subscribed([("alpha", second)])
    assert not sidecar.subscribed("alpha", first)
    key = uuid.uuid4().hex
    sidecar.publish(second, {"key": key})
    alpha.wait_deliveries(key, 1)
    streams.wait_acked(second, "alpha", key)


def test_what_was_published_before_the_app_was_known_is_delivered(make_stack, unique, streams):
    """An app's group starts at the stream's beginning, as daprd's: messages published before
    its sidecar first found the app (a subscriber deployed after its publisher, or slower to
    start) are delivered, not skipped. A replica's own broadcast group starts at the end: a
    replica started now gets the live fan-out, not the topic's old notices."""
    orders, notices = unique("orders"), unique("notices")
    stack = make_stack()
    alpha = stack.app(
        "alpha",
        [
            *orders_subscription(orders),
            {"pubsubname": "pubsub-broadcast", "topic": notices, "route": "/notices"},
        ],
    )
    sidecar = stack.start_sidecar()  # alpha is not listening yet: no group exists
    early = [uuid.uuid4().hex for _ in range(3)]
    for key in early:
        assert sidecar.publish(orders, {"key": key}).status_code == 204
    old_notice = uuid.uuid4().hex
    assert (
        sidecar.publish(notices, {"key": old_notice}, pubsub="pubsub-broadcast").status_code == 204
    )
    alpha.start()
    sidecar.wait_subscribed([("alpha", orders), ("alpha", notices)])
    for key in early:
        alpha.wait_deliveries(key, 1, timeout=15)
        streams.wait_acked(orders, "alpha", key)
    live_notice = uuid.uuid4().hex
    assert (
        sidecar.publish(notices, {"key": live_notice}, pubsub="pubsub-broadcast").status_code == 204
    )
    alpha.wait_deliveries(live_notice, 1, timeout=15)
    # The old notice lies before the live one in the stream: had it been read, it would be here.
    assert alpha.deliveries(old_notice) == []
