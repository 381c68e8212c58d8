"""Replicas: two sidecars, each serving its own instance of the same app id.

A pub/sub component with `consumerID: "{uuid}"` (pubsub-broadcast.yaml) gives each sidecar
instance a consumer group of its own, so every replica receives each message, as daprd does;
any other component groups by app id, so the replicas share the messages (one delivery each).
"""

import uuid

import pytest

BROADCAST = "pubsub-broadcast"


def _replicas(stacks, fast_settings, subscriptions, extra: tuple[str, ...] = ()):
    """App `alpha` behind sidecar A and, in a directory of its own, behind sidecar B."""
    pairs = []
    for stack in stacks:
        app = stack.app("alpha", subscriptions)
        # All four processes start together; the sidecars find their app once it answers.
        app.process.start()
        pairs.append((app, stack.launch_sidecar((*fast_settings, *extra))))
    for app, sidecar in pairs:
        app.wait_ready()
        sidecar.wait_ready()
        sidecar.wait_subscribed([("alpha", s["topic"]) for s in subscriptions])
    return pairs


def _subscriptions(**topics: str) -> list[dict[str, str]]:
    return [{"pubsubname": p, "topic": t, "route": "/notice"} for p, t in topics.items()]


@pytest.fixture(scope="module")
def replicas(shared_stack_builder, fast_settings):
    """Both replicas subscribe to a broadcast topic and to a plain one (starting processes is
    what takes time on a busy machine, so the two tests share them)."""
    suffix = uuid.uuid4().hex[:8]
    topics = {BROADCAST: f"notices-{suffix}", "pubsub": f"orders-{suffix}"}
    stacks = [shared_stack_builder("replica-a"), shared_stack_builder("replica-b")]
    pairs = _replicas(stacks, fast_settings, _subscriptions(**topics))
    yield topics, pairs
    for stack in stacks:
        stack.stop()


def test_uuid_consumer_id_delivers_every_message_to_every_replica(replicas, streams):
    topics, ((app_a, sidecar_a), (app_b, sidecar_b)) = replicas
    topic = topics[BROADCAST]
    group_a = sidecar_a.consumer_group("alpha", topic)
    group_b = sidecar_b.consumer_group("alpha", topic)
    assert group_a != group_b
    assert group_a.startswith("alpha-") and group_b.startswith("alpha-")
    keys = [uuid.uuid4().hex for _ in range(4)]
    # Published through either sidecar: the stream is the same.
    for i, key in enumerate(keys):
        sidecar = sidecar_a if i % 2 == 0 else sidecar_b
        assert sidecar.publish(topic, {"key": key}, pubsub=BROADCAST).status_code == 204
    for key in keys:
        for app, group in ((app_a, group_a), (app_b, group_b)):
            app.wait_deliveries(key, 1)
            streams.wait_acked(topic, group, key)
    for key in keys:
        assert len(app_a.deliveries(key)) == 1
        assert len(app_b.deliveries(key)) == 1


def test_plain_component_shares_the_messages_between_replicas(replicas, streams):
    topics, ((app_a, sidecar_a), (app_b, sidecar_b)) = replicas
    topic = topics["pubsub"]
    assert sidecar_a.consumer_group("alpha", topic) == "alpha"
    assert sidecar_b.consumer_group("alpha", topic) == "alpha"
    keys = [uuid.uuid4().hex for _ in range(6)]
    for key in keys:
        assert sidecar_a.publish(topic, {"key": key}).status_code == 204
    for key in keys:
        streams.wait_acked(topic, "alpha", key)
    for key in keys:
        # Acked means delivered successfully once; nobody else got it.
        assert len(app_a.deliveries(key)) + len(app_b.deliveries(key)) == 1


def _groups(redis_client, topic: str) -> set[str]:
    return {g["name"].decode() for g in redis_client.xinfo_groups(topic)}


def test_per_instance_groups_go_with_their_sidecar(
    make_stack, fast_settings, unique, redis_client, poll
):
    stale_after = 2  # seconds; the least the sidecar accepts
    topic = unique("notices")
    extra = (f"--stale-group-after={stale_after}",)
    stacks = [make_stack("a"), make_stack("b")]
    subscriptions = _subscriptions(**{BROADCAST: topic})
    (app_a, sidecar_a), (app_b, sidecar_b) = _replicas(stacks, fast_settings, subscriptions, extra)
    group_a = sidecar_a.consumer_group("alpha", topic)
    group_b = sidecar_b.consumer_group("alpha", topic)
    # B dies with a delivery in flight: its group keeps a pending entry nobody will claim.
    key = uuid.uuid4().hex
    # Never answered (not even a redelivery), so it is pending however slow the kill is.
    sidecar_a.publish(topic, {"key": key, "reply": "hang"}, pubsub=BROADCAST)
    app_b.wait_deliveries(key, 1)
    sidecar_b.process.kill()
    assert redis_client.xpending(topic, group_b)["pending"] == 1
    # A, alive, prunes the dead instance's group once it has been idle long enough.
    poll(lambda: group_b not in _groups(redis_client, topic), timeout=15, what="stale group gone")
    assert group_a in _groups(redis_client, topic)
    app_a.wait_deliveries(key, 2, timeout=15)  # A's own copy is redelivered as usual
    # A clean shutdown destroys the instance's group itself.
    sidecar_a.process.stop()
    assert group_a not in _groups(redis_client, topic)
