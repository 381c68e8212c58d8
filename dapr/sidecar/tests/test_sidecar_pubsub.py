"""Publishing: POST /v1.0/publish/{pubsubname}/{topic}, the CloudEvent a subscriber receives,
routing rules and raw payloads, as Dapr's pub/sub API documents them."""

import asyncio
import base64
import json
import time
import uuid
from types import SimpleNamespace

import httpx
import pytest

TRACEPARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


@pytest.fixture(scope="module")
def env(shared_stack_builder, fast_settings):
    suffix = uuid.uuid4().hex[:8]
    topics = SimpleNamespace(
        orders=f"orders-{suffix}",
        routed=f"routed-{suffix}",
        raw=f"raw-{suffix}",
        filtered=f"filtered-{suffix}",
    )
    stack = shared_stack_builder("pubsub")
    alpha = stack.app(
        "alpha",
        [
            {"pubsubname": "pubsub", "topic": topics.orders, "route": "/orders"},
            {
                "pubsubname": "pubsub",
                "topic": topics.routed,
                "routes": {
                    "rules": [
                        {"match": 'event.type == "com.example.special"', "path": "/special"},
                        {
                            "match": 'event.data.kind == "vip" && event.source == "cart"',
                            "path": "vip",
                        },
                    ],
                    "default": "/routed",
                },
            },
            {
                # Rules and no default: what no rule matches is dropped, never delivered.
                "pubsubname": "pubsub",
                "topic": topics.filtered,
                "routes": {
                    "rules": [
                        {
                            "match": '!has(event.data.kind) || event.data.kind == "mine"',
                            "path": "/filtered",
                        }
                    ]
                },
            },
            {
                "pubsubname": "pubsub",
                "topic": topics.raw,
                "route": "/raw",
                "metadata": {"rawPayload": "true"},
            },
        ],
    )
    alpha.start()
    sidecar = stack.start_sidecar(fast_settings)
    sidecar.wait_subscribed([("alpha", t) for t in vars(topics).values()])
    yield SimpleNamespace(stack=stack, sidecar=sidecar, alpha=alpha, topics=topics)
    stack.stop()


def test_publish_returns_204_and_appends_to_the_topic_stream(env, streams):
    key = uuid.uuid4().hex
    response = env.sidecar.publish(env.topics.orders, {"key": key})
    assert response.status_code == 204
    assert response.content == b""
    entry = streams.entry_id(env.topics.orders, key)
    assert entry


def test_a_burst_of_publishes_waits_for_connections_and_loses_none(env, streams):
    """More publishes at once than the sidecar has Redis connections for (a relay catching up,
    120 journal events from one test): each waits its turn, none is refused."""
    keys = [uuid.uuid4().hex for _ in range(300)]

    async def burst() -> list[int]:
        async with httpx.AsyncClient(
            base_url=env.sidecar.url,
            headers=env.sidecar.http.headers,
            timeout=60,
            limits=httpx.Limits(max_connections=300),
        ) as client:
            answers = await asyncio.gather(
                *(
                    client.post(f"/v1.0/publish/pubsub/{env.topics.orders}", json={"key": k})
                    for k in keys
                )
            )
        return [a.status_code for a in answers]

    assert asyncio.run(burst()) == [204] * len(keys)
    for key in keys[:: len(keys) // 10]:
        env.alpha.wait_deliveries(key, 1, timeout=30)


def test_unknown_pubsub_is_404_err_pubsub_not_found(env):
    response = env.sidecar.http.post("/v1.0/publish/nosuch/orders", json={"a": 1})
    assert response.status_code == 404
    body = response.json()
    assert body["errorCode"] == "ERR_PUBSUB_NOT_FOUND"
    assert "nosuch" in body["message"]


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("application/json", b"{not json"),
        ("application/cloudevents+json", b"[1, 2]"),
        ("application/cloudevents+json", b"nope"),
    ],
)
def test_malformed_body_is_400(env, content_type, body):
    response = env.sidecar.http.post(
        f"/v1.0/publish/pubsub/{env.topics.orders}",
        content=body,
        headers={"Content-Type": content_type},
    )
    assert response.status_code == 400
    assert response.json()["errorCode"] == "ERR_PUBSUB_CLOUD_EVENTS_SER"


def test_subscriber_receives_a_cloudevents_1_0_envelope(env):
    key = uuid.uuid4().hex
    response = env.sidecar.publish(
        env.topics.orders,
        {"key": key, "amount": 12.5},
        headers={"traceparent": TRACEPARENT, "dapr-app-id": "cart"},
    )
    assert response.status_code == 204
    (delivery,) = env.alpha.wait_deliveries(key, 1, "/orders")
    assert delivery["content_type"] == "application/cloudevents+json"
    event = delivery["body"]
    assert event["specversion"] == "1.0"
    assert event["type"] == "com.dapr.event.sent"
    assert event["source"] == "cart"
    assert event["topic"] == env.topics.orders
    assert event["pubsubname"] == "pubsub"
    assert event["datacontenttype"] == "application/json"
    assert event["data"] == {"key": key, "amount": 12.5}
    assert event["traceparent"] == TRACEPARENT
    assert event["id"]
    assert event["time"]


def test_text_body_is_carried_as_a_string(env, poll):
    text = f"plain {uuid.uuid4().hex}"
    env.sidecar.http.post(
        f"/v1.0/publish/pubsub/{env.topics.orders}",
        content=text.encode(),
        headers={"Content-Type": "text/plain"},
    )
    record = poll(
        lambda: next((r for r in _all(env.alpha) if r["body"].get("data") == text), None),
        what="text delivery",
    )
    assert record["body"]["datacontenttype"] == "text/plain"


def _all(app):
    if not app.record.exists():
        return []
    return [json.loads(line) for line in app.record.read_text().splitlines() if line]


def test_binary_body_is_carried_as_data_base64(env, poll):
    payload = uuid.uuid4().bytes
    env.sidecar.http.post(
        f"/v1.0/publish/pubsub/{env.topics.orders}",
        content=payload,
        headers={"Content-Type": "application/octet-stream"},
    )
    encoded = base64.b64encode(payload).decode()
    record = poll(
        lambda: next((r for r in _all(env.alpha) if r["body"].get("data_base64") == encoded), None),
        what="binary delivery",
    )
    assert record["body"]["datacontenttype"] == "application/octet-stream"


def test_cloudevent_sent_by_the_publisher_is_kept(env):
    key = uuid.uuid4().hex
    event = {
        "specversion": "1.0",
        "id": f"evt-{key}",
        "source": "terminal",
        "type": "com.example.special",
        "datacontenttype": "application/json",
        "data": {"key": key},
    }
    response = env.sidecar.http.post(
        f"/v1.0/publish/pubsub/{env.topics.routed}",
        content=json.dumps(event),
        headers={"Content-Type": "application/cloudevents+json"},
    )
    assert response.status_code == 204
    (delivery,) = env.alpha.wait_deliveries(key, 1, "/special")
    received = delivery["body"]
    assert received["id"] == f"evt-{key}"
    assert received["source"] == "terminal"
    assert received["type"] == "com.example.special"
    assert received["topic"] == env.topics.routed
    assert received["pubsubname"] == "pubsub"


def test_routing_rules_then_default_route(env):
    vip, plain = uuid.uuid4().hex, uuid.uuid4().hex
    env.sidecar.publish(
        env.topics.routed, {"key": vip, "kind": "vip"}, headers={"dapr-app-id": "cart"}
    )
    env.sidecar.publish(
        env.topics.routed, {"key": plain, "kind": "vip"}, headers={"dapr-app-id": "x"}
    )
    env.alpha.wait_deliveries(vip, 1, "/vip")
    env.alpha.wait_deliveries(plain, 1, "/routed")
    assert env.alpha.deliveries(vip, "/routed") == []


def test_a_message_no_rule_matches_without_a_default_route_is_dropped(env):
    other, mine, unmarked = (uuid.uuid4().hex for _ in range(3))
    env.sidecar.publish(env.topics.filtered, {"key": other, "kind": "theirs"})
    env.sidecar.publish(env.topics.filtered, {"key": mine, "kind": "mine"})
    env.sidecar.publish(env.topics.filtered, {"key": unmarked})
    env.alpha.wait_deliveries(mine, 1, "/filtered")
    env.alpha.wait_deliveries(unmarked, 1, "/filtered")
    time.sleep(0.3)  # the first one was read before the others: it had its chance
    assert env.alpha.deliveries(other) == []


def test_raw_payload_publish_is_wrapped_for_a_cloudevents_subscriber(env):
    key = uuid.uuid4().hex
    response = env.sidecar.publish(
        env.topics.orders, {"key": key, "raw": True}, params={"metadata.rawPayload": "true"}
    )
    assert response.status_code == 204
    (delivery,) = env.alpha.wait_deliveries(key, 1, "/orders")
    assert delivery["content_type"] == "application/cloudevents+json"
    assert delivery["body"]["data"] == {"key": key, "raw": True}


def test_raw_payload_subscription_receives_the_body_as_published(env):
    key = uuid.uuid4().hex
    env.sidecar.publish(env.topics.raw, {"key": key}, params={"metadata.rawPayload": "true"})
    (delivery,) = env.alpha.wait_deliveries(key, 1, "/raw")
    assert delivery["body"] == {"key": key}
    assert delivery["content_type"].startswith("application/json")
