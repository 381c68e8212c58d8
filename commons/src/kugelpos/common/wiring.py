"""A service's dependencies as one typed object: `Wiring[S]`.

Each service subclasses it once (`CartWiring(Wiring[CartSettings])`, in its `wiring.py`):
the shared clients are `infra`, the service's own long-lived objects (caches, clients of
other services, its event machinery, limiters) are typed attributes set in `__init__`, and
`create_app` takes the object and calls the hooks below. What a service does not override
is what it gets:

    class CartWiring(Wiring[CartSettings]):
        def __init__(self, settings: CartSettings) -> None:
            super().__init__(settings)
            self.events = CartEvents(settings, ...)
            self.subscriptions = self.events.subscriptions

        def terminal_credentials(self) -> TerminalCredentials: ...
        def health_checks(self) -> dict[str, HealthCheck]: ...
        async def start(self) -> None: await self.events.start(self.infra)
        async def stop(self) -> None: await self.events.stop(self.infra)

    app = create_app(CartWiring(get_settings()), title=..., routers=[...], welcome=...)

A request reaches it through a FastAPI dependency (`web.app.get_wiring`), aliased once per
service with its own type (`type CartWiringDep = Annotated[CartWiring, Depends(get_wiring)]`).
"""

from __future__ import annotations

from collections.abc import Collection

from .auth.dependencies import TerminalCredentials
from .auth.remote_terminal import remote_terminal_resolver
from .events.consumer import EventConsumer
from .events.subscriptions import V1_SUBSCRIBER_ROUTES, DaprSubscriptions
from .infrastructure import Infrastructure, build_infrastructure
from .observability.health import DAPR_STATESTORE_CHECK, HealthCheck, state_store_check
from .observability.logging import configure_logging
from .settings import CommonSettings


class Wiring[S: CommonSettings]:
    """The process-wide objects of one service and the hooks `create_app` calls."""

    # Dapr subscriptions the app serves (`GET /dapr/subscribe` and a route per topic).
    subscriptions: DaprSubscriptions | None = None
    # Subscriber routes listed in OpenAPI: all (True), none (False), or these paths (a v1
    # contract that names them).
    subscriptions_in_schema: bool | Collection[str] = False
    # Whether `X-API-KEY` (with a terminal id) is a credential here at all; checked by the
    # same object as terminal JWTs (`terminal_credentials`).
    api_keys: bool = True
    # A service that checks terminal credentials and subscribes to anything also listens to
    # `terminal_changed` (pub/sub broadcast) to drop the approvals it caches at once. The
    # terminal service, which reads its own database on every check, caches none.
    drops_terminal_approvals: bool = True

    def __init__(self, settings: S, *, db_prefix: str | None = None) -> None:
        configure_logging(settings.service_name, settings.log_level)
        self.infra: Infrastructure[S] = build_infrastructure(settings, db_prefix)

    @property
    def settings(self) -> S:
        return self.infra.settings

    # ---- hooks -------------------------------------------------------------------------

    def terminal_credentials(self) -> TerminalCredentials | None:
        """How this service checks a terminal's API key and JWT against the terminal as it
        is now, called once by `create_app`. None: terminal credentials are refused (401)."""
        return None

    def health_checks(self) -> dict[str, HealthCheck]:
        """`/health` checks beyond MongoDB, the sidecar and Redis (`web.app`)."""
        return {}

    async def start(self) -> None:
        """In the lifespan, before the first request: background work (relay, consumer,
        scheduler)."""

    async def stop(self) -> None:
        """In the lifespan, after the last request; the clients are closed after it."""


class RemoteTerminalsWiring[S: CommonSettings](Wiring[S]):
    """A service other than the terminal service: terminal credentials are checked with the
    terminal service over HTTP (`auth.remote_terminal`), approvals cached briefly."""

    def terminal_credentials(self) -> TerminalCredentials | None:
        return remote_terminal_resolver(self.infra)


def statestore_checks(infra: Infrastructure) -> dict[str, HealthCheck]:
    """`dapr_statestore` as v1 named it: a read (never a write) of the state store the service
    keeps its `Idempotency-Key` records and attempt counters in."""
    store = infra.settings.idempotency_store
    return {DAPR_STATESTORE_CHECK: state_store_check(infra.dapr, store)}


class ConsumerWiring[S: CommonSettings](RemoteTerminalsWiring[S]):
    """A service whose tenant data is what its `EventConsumer` writes from the log topics
    (journal, report, stock): the consumer's subscriptions, listed in OpenAPI as the v1
    contracts name them (`/api/v1/tranlog`, `/dapr/subscribe`...), the consumer started with
    the app, and `dapr_statestore` in `/health`, as v1 monitors read it. A subclass sets
    `consumer` in its `__init__`."""

    subscriptions_in_schema = V1_SUBSCRIBER_ROUTES
    consumer: EventConsumer

    @property
    def subscriptions(self) -> DaprSubscriptions:  # type: ignore[override]
        return self.consumer.subscriptions

    def health_checks(self) -> dict[str, HealthCheck]:
        return statestore_checks(self.infra)

    async def start(self) -> None:
        await self.consumer.start(self.infra)
