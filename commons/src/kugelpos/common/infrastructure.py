"""The process-wide clients every service shares, created once at start-up: MongoDB, the
pooled HTTP client, the Dapr client, the authenticator and the metrics.

Generic in the service's settings, so `Infrastructure[CartSettings].settings` is the cart's
own settings class. Kept apart from the web layer: the event machinery and the credential
checks take it without importing FastAPI's application factory."""

from __future__ import annotations

from dataclasses import dataclass

from .auth.dependencies import Authenticator
from .auth.tokens import TokenCodec
from .clients.breaker import BreakerRegistry
from .clients.dapr import DaprClientHelper
from .clients.http import HttpClientHelper
from .db.mongo import Mongo
from .observability.metrics import Metrics
from .settings import CommonSettings
from .throttle import AttemptLimiter


@dataclass
class Infrastructure[S: CommonSettings]:
    """Process-wide clients, created once at start-up and shared by every request."""

    settings: S
    mongo: Mongo
    http: HttpClientHelper
    dapr: DaprClientHelper
    auth: Authenticator
    metrics: Metrics

    def limiter(
        self,
        namespace: str,
        *,
        free_attempts: int,
        forget_after_seconds: float,
        base_delay_seconds: float,
        max_delay_seconds: float,
    ) -> AttemptLimiter:
        """A failed-attempt limiter over the state store. It holds the in-memory fallback
        records, so a service keeps one per namespace for the life of the process (on its
        wiring)."""
        return AttemptLimiter(
            self.dapr,
            store=self.settings.throttle_state_store,
            namespace=namespace,
            free_attempts=free_attempts,
            forget_after_seconds=forget_after_seconds,
            base_delay_seconds=base_delay_seconds,
            max_delay_seconds=max_delay_seconds,
        )

    async def close(self) -> None:
        await self.http.aclose()
        await self.mongo.close()


def build_infrastructure[S: CommonSettings](
    settings: S, db_prefix: str | None = None
) -> Infrastructure[S]:
    """The clients of one process; its databases are named `<db_prefix>_<tenant>`
    (default: the settings' `db_name_prefix`)."""
    breakers = BreakerRegistry(
        failure_threshold=settings.breaker_failure_threshold,
        reset_timeout=settings.breaker_reset_seconds,
    )
    http = HttpClientHelper(
        timeout=settings.http_timeout_seconds,
        max_attempts=settings.http_max_attempts,
        backoff=settings.http_backoff_seconds,
        breakers=breakers,
    )
    metrics = Metrics(settings.service_name)
    metrics.watch_breakers(breakers.items)
    return Infrastructure(
        settings=settings,
        mongo=Mongo(settings, prefix=db_prefix or settings.db_name_prefix),
        http=http,
        dapr=DaprClientHelper(
            http,
            settings.dapr_http_endpoint,
            settings.service_name,
            api_token=settings.dapr_api_token,
        ),
        auth=Authenticator(
            TokenCodec(settings.secret_key, settings.algorithm),
            notify_api_key=settings.pubsub_notify_api_key,
        ),
        metrics=metrics,
    )
