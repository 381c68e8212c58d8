"""What the HTTP handlers share: settings, components, the Redis and HTTP clients, subscriptions."""

from dataclasses import dataclass

import httpx
from redis.asyncio import Redis

from kugelpos.sidecar.components import Components, load_components
from kugelpos.sidecar.discovery import SubscriptionRegistry
from kugelpos.sidecar.resolution import NameResolver
from kugelpos.sidecar.settings import APP_API_TOKEN_HEADER, Settings
from kugelpos.sidecar.state_store import StateStore


@dataclass(slots=True)
class Runtime:
    settings: Settings
    components: Components
    redis: Redis
    http: httpx.AsyncClient
    state_stores: dict[str, StateStore]
    registry: SubscriptionRegistry
    resolver: NameResolver

    @classmethod
    def create(cls, settings: Settings) -> "Runtime":
        components = load_components(settings.components_path)
        # One Redis for every component: --redis-url overrides each component's redisHost.
        redis = Redis.from_url(settings.redis_url, health_check_interval=30)
        token = settings.app_api_token
        http = httpx.AsyncClient(
            limits=httpx.Limits(max_connections=200, max_keepalive_connections=50),
            headers={APP_API_TOKEN_HEADER: token} if token else None,
        )
        stores = {
            name: StateStore(redis, component)
            for name, component in components.state_stores.items()
        }
        registry = SubscriptionRegistry(redis, http, settings, components)
        resolver = NameResolver(redis, settings, registry.instance_id)
        return cls(settings, components, redis, http, stores, registry, resolver)

    async def start(self) -> None:
        await self.redis.ping()
        self.registry.start()
        self.resolver.start()

    async def close(self) -> None:
        await self.resolver.stop()
        await self.registry.stop()
        await self.http.aclose()
        await self.redis.aclose()
