"""Replicas: two sidecars, each serving its own instance of the same app id.

A pub/sub component with `consumerID: "{uuid}"` (pubsub-broadcast.yaml) gives each sidecar
instance a consumer group of its own, so every replica receives each message, as daprd does;
any other component groups by app id, so the replicas share the messages (one delivery each).
Service invocation resolves an app id to every live replica, as daprd's name resolution does.
"""

import uuid
from collections import Counter

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


def _served_by(sidecar, app_id: str, calls: int) -> list[str]:
    """Invokes `app_id` through `sidecar` `calls` times; the address each call reached."""
    hosts = []
    for _ in range(calls):
        response = sidecar.http.get(f"/v1.0/invoke/{app_id}/method/echo/who")
        assert response.status_code == 200, response.text
        hosts.append(response.json()["headers"]["host"])
    return hosts


def test_invocation_spreads_over_the_live_replicas_of_an_app(
    make_stack, fast_settings, unique, poll
):
    """Name resolution: a sidecar that does not serve an app reaches every replica of it (each
    announced by its own sidecar), round-robin; a replica whose app died is skipped."""
    app_id = unique("svc")
    replicas = [make_stack(f"svc-{n}") for n in range(2)]
    apps = [stack.app(app_id, []) for stack in replicas]
    caller = make_stack("caller")
    caller.app(unique("caller"), [])
    for app in [*apps, *caller.apps.values()]:
        app.process.start()
    sidecars = [stack.launch_sidecar(fast_settings) for stack in [*replicas, caller]]
    for app in [*apps, *caller.apps.values()]:
        app.wait_ready()
    for sidecar in sidecars:
        sidecar.wait_ready()
    hosts = {app.url.removeprefix("http://") for app in apps}
    calling = sidecars[-1]
    # Both replicas announced (each sidecar every 2 s): calls alternate between them.
    poll(lambda: set(_served_by(calling, app_id, 4)) == hosts, what="both replicas")
    assert Counter(_served_by(calling, app_id, 6)) == dict.fromkeys(hosts, 3)
    # A replica's sidecar also reaches the other replica, not only its own app.
    assert set(_served_by(sidecars[0], app_id, 4)) == hosts
    # One replica's app dies (its sidecar lives on): every call reaches the survivor.
    apps[0].process.kill()
    survivor = apps[1].url.removeprefix("http://")
    assert _served_by(calling, app_id, 6) == [survivor] * 6
    assert _served_by(sidecars[0], app_id, 3) == [survivor] * 3
    # Back up: it takes calls again.
    apps[0].start()
    poll(lambda: set(_served_by(calling, app_id, 4)) == hosts, what="rejoined replica")
