"""The sidecar is not an open door (issue 21, item 5), probed on the running stack.

A neighbour process that can reach the Dapr HTTP port, with no token, cannot publish a forged
sale, cannot invoke a subscriber route (where the sidecar would attach the app's own token), and
cannot read or delete a till's cart. Another service, with its own valid token, is held by the
component scopes and the access-control policies of dapr/ (the files daprd reads too). And the
scopes are not narrower than the product: every subscription a service declares is made, and
every topic a service publishes is one its scopes grant.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis.asyncio as aioredis
import yaml

from kugelpos.common.events.acks import ACK_TOPIC
from kugelpos.common.events.changes import BROADCAST_PUBSUB, MASTERDATA_CHANGED
from kugelpos.common.events.logs import TOPIC_CASHLOG, TOPIC_OPENCLOSELOG, TOPIC_TRANLOG
from kugelpos.devstack.pos import Register, Shop, open_shop
from kugelpos.devstack.stack import Stack
from kugelpos.registry.deploy import TERMINAL_LOG_CONSUMERS, TRANLOG_CONSUMERS
from kugelpos.registry.services import SERVICES
from kugelpos.sidecar.components import Component
from kugelpos.sidecar.scopes import TopicScopes

ROOT = Path(__file__).resolve().parents[1]
REFUSAL = "invalid api token\n"
STOCK_ALERTS = "stock_alerts"  # stock's own topic (services do not import each other)


@dataclass
class Scene:
    stack: Stack
    shop: Shop
    cart_id: str
    sidecar: httpx.AsyncClient

    @property
    def cart_key(self) -> str:
        return f"{self.shop.tenant_id}:{self.cart_id}"


@pytest.fixture
async def scene(stack: Stack) -> AsyncIterator[Scene]:
    """A shop with an open till and one cart in progress (a cart in the `cartstore`)."""
    urls = {spec.name: stack.url(spec.name) for spec in SERVICES}
    async with (
        httpx.AsyncClient(timeout=60) as client,
        httpx.AsyncClient(base_url=stack.sidecar_url, timeout=30) as sidecar,
    ):
        shop = await open_shop(client, urls)
        register = Register(client, shop, shop.tills[0])
        cart_id = await register.create()
        assert (await register.add(cart_id, (shop.items[0].code, 1))).status_code == 200
        yield Scene(stack, shop, cart_id, sidecar)


def _forged_sale(scene: Scene) -> dict[str, Any]:
    till = scene.shop.tills[0]
    return {
        "event_id": f"forged-{uuid.uuid4().hex}",
        "tenant_id": scene.shop.tenant_id,
        "store_code": till.store_code,
        "terminal_no": till.terminal_no,
        "transaction_no": 999_999,
        "transaction_type": 101,
        "sales": {"total_amount": 1_000_000, "total_amount_with_tax": 1_000_000},
    }


async def _stream_length(stack: Stack, topic: str) -> int:
    client = aioredis.from_url(stack.redis_url)
    try:
        return await client.xlen(topic) if await client.exists(topic) else 0
    finally:
        await client.aclose()


async def _cart_is_intact(scene: Scene) -> None:
    """The cart is still there and still the cart's: read through the cart service."""
    till = scene.shop.tills[0]
    async with httpx.AsyncClient(timeout=30) as client:
        r = await Register(client, scene.shop, till).get(scene.cart_id)
    assert r.status_code == 200, r.text
    assert len(r.json()["data"]["lineItems"]) == 1


async def test_a_neighbour_without_a_token_can_do_nothing_at_the_sidecar(scene: Scene) -> None:
    sidecar, forged = scene.sidecar, _forged_sale(scene)
    before = await _stream_length(scene.stack, TOPIC_TRANLOG)
    attempts = [
        # A fake sale, counted by report, journal and stock if it got in.
        sidecar.post(f"/v1.0/publish/pubsub/{TOPIC_TRANLOG}", json=forged),
        # The same, straight to a consumer's subscriber route, via the consumer's own sidecar.
        sidecar.post("/v1.0/invoke/journal/method/api/v1/tranlog", json=forged),
        sidecar.post(f"/v1.0/invoke/report/method/events/{TOPIC_TRANLOG}", json=forged),
        # A till's cart: read it, replace it, delete it.
        sidecar.get(f"/v1.0/state/cartstore/{scene.cart_key}"),
        sidecar.post("/v1.0/state/cartstore", json=[{"key": scene.cart_key, "value": {}}]),
        sidecar.delete(f"/v1.0/state/cartstore/{scene.cart_key}"),
        sidecar.get("/v1.0/metadata"),
    ]
    for attempt in attempts:
        response = await attempt
        assert response.status_code == 401, response.text
        assert response.text == REFUSAL
    wrong = await sidecar.get(
        f"/v1.0/state/cartstore/{scene.cart_key}", headers={"dapr-api-token": "0" * 64}
    )
    assert wrong.status_code == 401
    assert await _stream_length(scene.stack, TOPIC_TRANLOG) == before
    await _cart_is_intact(scene)
    # Probes still see the sidecar.
    assert (await sidecar.get("/v1.0/healthz")).status_code == 204


async def test_another_service_is_held_by_the_scopes_and_the_access_policies(
    scene: Scene,
) -> None:
    """stock has a token of its own; it may publish acknowledgements, never a sale, may not
    invoke journal's subscriber route, and has no cart store."""
    sidecar, forged = scene.sidecar, _forged_sale(scene)
    as_stock = scene.stack.dapr_headers("stock")
    before = await _stream_length(scene.stack, TOPIC_TRANLOG)

    published = await sidecar.post(
        f"/v1.0/publish/pubsub/{TOPIC_TRANLOG}", json=forged, headers=as_stock
    )
    assert published.status_code == 403, published.text
    assert published.json() == {
        "errorCode": "ERR_PUBSUB_FORBIDDEN",
        "message": f"topic {TOPIC_TRANLOG} is not allowed for app id stock",
    }
    invoked = await sidecar.post(
        "/v1.0/invoke/journal/method/api/v1/tranlog", json=forged, headers=as_stock
    )
    assert invoked.status_code == 403, invoked.text
    assert invoked.json()["errorCode"] == "ERR_DIRECT_INVOKE"
    assert "access control policy has denied access" in invoked.json()["message"]
    for response in (
        await sidecar.get(f"/v1.0/state/cartstore/{scene.cart_key}", headers=as_stock),
        await sidecar.delete(f"/v1.0/state/cartstore/{scene.cart_key}", headers=as_stock),
    ):
        assert response.status_code == 400, response.text
        assert response.json()["errorCode"] == "ERR_STATE_STORE_NOT_FOUND"
    assert await _stream_length(scene.stack, TOPIC_TRANLOG) == before
    await _cart_is_intact(scene)
    # The one invocation the policies allow reaches the app: the refusals are the policy's.
    health = await sidecar.get("/v1.0/invoke/journal/method/health", headers=as_stock)
    assert health.status_code == 200, health.text


# ---- the scopes are not narrower than the product --------------------------------------------


def _topic_scopes(pubsub: str) -> tuple[TopicScopes, tuple[str, ...]]:
    for path in sorted((ROOT / "dapr" / "components").glob("*.yaml")):
        doc = yaml.safe_load(path.read_text())
        if doc["metadata"]["name"] == pubsub:
            items = doc["spec"]["metadata"]
            metadata = {m["name"]: str(m["value"]) for m in items if "value" in m}
            component = Component(pubsub, doc["spec"]["type"], metadata=metadata)
            return TopicScopes.of(component), tuple(doc.get("scopes") or ())
    raise AssertionError(f"no component {pubsub}")


# What each service publishes, from the code's own names: the outbox topics of cart and
# terminal, the acknowledgements of every consumer, master-data's notices and stock's alerts.
PUBLISHED = [
    ("cart", "pubsub", TOPIC_TRANLOG),
    ("terminal", "pubsub", TOPIC_CASHLOG),
    ("terminal", "pubsub", TOPIC_OPENCLOSELOG),
    *(
        (consumer, "pubsub", ACK_TOPIC)
        for consumer in sorted({*TRANLOG_CONSUMERS, *TERMINAL_LOG_CONSUMERS})
    ),
    ("master-data", BROADCAST_PUBSUB, MASTERDATA_CHANGED),
    ("stock", BROADCAST_PUBSUB, STOCK_ALERTS),
]


@pytest.mark.parametrize(("app", "pubsub", "topic"), PUBLISHED)
def test_each_service_may_publish_what_it_publishes(app: str, pubsub: str, topic: str) -> None:
    rules, scopes = _topic_scopes(pubsub)
    assert app in scopes
    assert rules.may_publish(app, topic)


@pytest.mark.parametrize("spec", SERVICES, ids=lambda spec: spec.name)
async def test_every_declared_subscription_is_made(stack: Stack, spec) -> None:
    """What the service asks for in /dapr/subscribe, the sidecar subscribed (the scopes let
    it); a dead-letter topic it names is one its sidecar may publish."""
    async with httpx.AsyncClient(timeout=30) as client:
        answer = await client.get(f"{stack.url(spec.name)}/dapr/subscribe")
        # A service with no subscriptions need not serve the route (daprd reads 404 as none).
        assert answer.status_code in (200, 404), answer.text
        declared = answer.json() if answer.status_code == 200 else []
        wanted = {(s["pubsubname"], s["topic"]) for s in declared}
        # The sidecar polls each app for its subscriptions: give a late start a few seconds.
        deadline = asyncio.get_running_loop().time() + 15
        while True:
            metadata = await client.get(
                f"{stack.sidecar_url}/v1.0/metadata", headers=stack.dapr_headers(spec.dapr_app_id)
            )
            made = {
                (s["pubsubname"], s["topic"])
                for s in metadata.json()["subscriptions"]
                if s["appID"] == spec.dapr_app_id
            }
            if wanted <= made or asyncio.get_running_loop().time() > deadline:
                break
            await asyncio.sleep(0.2)
    for subscription in declared:
        key = (subscription["pubsubname"], subscription["topic"])
        assert key in made, f"{spec.name} asks for {key}, which the scopes refuse"
        dead_letter = subscription.get("deadLetterTopic")
        if dead_letter:
            rules, _ = _topic_scopes(subscription["pubsubname"])
            assert rules.may_publish(spec.dapr_app_id, dead_letter), (
                f"{spec.name}: the sidecar publishes dead letters to {dead_letter}; add it to "
                "allowedTopics and the app's publishingScopes"
            )
