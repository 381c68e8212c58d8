"""Finds each app's subscriptions through `GET /dapr/subscribe` and keeps a consumer per topic.

The sidecar may start before the apps, and an app may restart with different subscriptions, so
every app is polled: quickly until it first answers, then every `subscribe_poll_interval`.
While an app is down its consumers stay: deliveries fail and are retried until it is back.
"""

import asyncio
import contextlib
import uuid

import httpx
from redis.asyncio import Redis
from redis.exceptions import RedisError

from kugelpos.sidecar.components import Components
from kugelpos.sidecar.consumer import TopicConsumer
from kugelpos.sidecar.logs import log
from kugelpos.sidecar.scopes import Scopes
from kugelpos.sidecar.settings import AppTarget, Settings
from kugelpos.sidecar.subscriptions import Subscription, parse_subscriptions

STARTUP_POLL_SECONDS = 0.25
SUBSCRIBE_TIMEOUT_SECONDS = 5.0

type TopicKey = tuple[str, str]


class SubscriptionRegistry:
    def __init__(
        self, redis: Redis, http: httpx.AsyncClient, settings: Settings, components: Components
    ) -> None:
        self.redis = redis
        self.http = http
        self.settings = settings
        self.components = components
        self.scopes = Scopes(components.all())
        self._refused: set[tuple[str, str, str]] = set()
        self._consumers: dict[str, dict[TopicKey, TopicConsumer]] = {
            app.app_id: {} for app in settings.apps
        }
        self.reachable: dict[str, bool] = {app.app_id: False for app in settings.apps}
        self._pollers: list[asyncio.Task[None]] = []
        # daprd's `{uuid}`: one per sidecar process, so a restart is a new instance.
        self.instance_id = uuid.uuid4().hex

    def start(self) -> None:
        self._pollers = [
            asyncio.create_task(self._poll(app), name=f"discover:{app.app_id}")
            for app in self.settings.apps
        ]

    async def stop(self) -> None:
        for task in self._pollers:
            task.cancel()
        for task in self._pollers:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for consumers in self._consumers.values():
            for consumer in consumers.values():
                await consumer.close()

    def subscriptions(self) -> list[Subscription]:
        """Subscriptions whose consumer group exists, i.e. that receive what is published now."""
        return [c.sub for consumers in self._consumers.values() for c in consumers.values()]

    def consumer_groups(self) -> list[dict[str, str]]:
        """Which consumer group each subscription reads with (per app id or per instance)."""
        return [
            {
                "appID": c.app.app_id,
                "pubsubname": c.sub.pubsubname,
                "topic": c.sub.topic,
                "group": c.group,
            }
            for consumers in self._consumers.values()
            for c in consumers.values()
        ]

    async def _fetch(self, app: AppTarget) -> list[Subscription] | None:
        url = app.base_url.rstrip("/") + "/dapr/subscribe"
        try:
            response = await self.http.get(url, timeout=SUBSCRIBE_TIMEOUT_SECONDS)
        except httpx.HTTPError:
            return None
        if response.status_code == 404:
            return []  # an app without subscriptions need not serve the endpoint
        if not response.is_success:
            return None
        try:
            payload = response.json()
        except ValueError:
            payload = None
        return parse_subscriptions(app.app_id, payload)

    async def _poll(self, app: AppTarget) -> None:
        while True:
            subs = await self._fetch(app)
            if subs is None:
                if self.reachable[app.app_id]:
                    log.warning("app_unreachable", app_id=app.app_id, url=app.base_url)
                self.reachable[app.app_id] = False
            else:
                if not self.reachable[app.app_id]:
                    log.info("app_discovered", app_id=app.app_id, subscriptions=len(subs))
                self.reachable[app.app_id] = True
                try:
                    await self._reconcile(app, subs)
                except RedisError as exc:
                    log.warning("subscribe_failed", app_id=app.app_id, error=str(exc))
            known = self.reachable[app.app_id]
            interval = self.settings.subscribe_poll_interval
            await asyncio.sleep(interval if known else min(interval, STARTUP_POLL_SECONDS))

    async def _reconcile(self, app: AppTarget, subs: list[Subscription]) -> None:
        wanted: dict[TopicKey, Subscription] = {}
        for sub in subs:
            if sub.pubsubname not in self.components.pubsubs:
                log.warning("subscribe_unknown_pubsub", app_id=app.app_id, pubsub=sub.pubsubname)
                continue
            if not self.scopes.may_subscribe(sub.pubsubname, app.app_id, sub.topic):
                # As daprd: a subscription outside the component's or the topic's scopes is
                # not made (said once, not at every poll).
                refused = (app.app_id, sub.pubsubname, sub.topic)
                if refused not in self._refused:
                    self._refused.add(refused)
                    log.warning(
                        "subscribe_not_allowed",
                        app_id=app.app_id,
                        pubsub=sub.pubsubname,
                        topic=sub.topic,
                    )
                continue
            wanted[(sub.pubsubname, sub.topic)] = sub
        current = self._consumers[app.app_id]
        for key in [k for k in current if k not in wanted]:
            log.info("unsubscribed", app_id=app.app_id, pubsub=key[0], topic=key[1])
            await current.pop(key).close()
        for key, sub in wanted.items():
            if key in current:
                if current[key].sub != sub:
                    log.info("subscription_changed", app_id=app.app_id, topic=sub.topic)
                    current[key].sub = sub
                continue
            component = self.components.pubsubs[sub.pubsubname]
            instance_id = self.instance_id if component.per_instance_groups else None
            consumer = TopicConsumer(
                self.redis, self.http, self.settings, app, sub, instance_id=instance_id
            )
            await consumer.ensure_group()
            consumer.start()
            current[key] = consumer
            log.info("subscribed", app_id=app.app_id, pubsub=sub.pubsubname, topic=sub.topic)
