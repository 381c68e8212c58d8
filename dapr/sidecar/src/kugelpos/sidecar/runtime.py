"""What the HTTP handlers share: settings, components, the Redis and HTTP clients, subscriptions."""

from dataclasses import dataclass

import httpx
from redis.asyncio import BlockingConnectionPool, Redis

from kugelpos.sidecar.components import Components, load_components
from kugelpos.sidecar.discovery import SubscriptionRegistry
from kugelpos.sidecar.resolution import NameResolver
from kugelpos.sidecar.settings import APP_API_TOKEN_HEADER, Settings
from kugelpos.sidecar.state_store import StateStore

REDIS_CONNECTIONS = 200
REDIS_CONNECTION_WAIT_SECONDS = 20.0


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
        # A blocking pool: a burst of publishes (120 at once from one test) waits its turn for
        # a connection instead of failing with "Too many connections" (redis-py's default pool
        # refuses the 101st); the blocked stream reads hold one each for up to 4 s.
        pool = BlockingConnectionPool.from_url(
            settings.redis_url,
            max_connections=REDIS_CONNECTIONS,
            timeout=REDIS_CONNECTION_WAIT_SECONDS,
            health_check_interval=30,
        )
        redis = Redis(connection_pool=pool)
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
