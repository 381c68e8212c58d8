"""Runtime settings of the sidecar, filled from the command line."""

from dataclasses import dataclass, field
from pathlib import Path

APP_API_TOKEN_HEADER = "dapr-api-token"


@dataclass(frozen=True, slots=True)
class AppTarget:
    """One application served by the sidecar: its Dapr app id and the base URL it listens on."""

    app_id: str
    base_url: str


@dataclass(frozen=True, slots=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 3500
    redis_url: str = "redis://127.0.0.1:6379/0"
    components_path: Path = Path("dapr/components")
    apps: tuple[AppTarget, ...] = ()
    # The sidecar's own id: CloudEvent `source` when the publisher does not say who it is.
    sidecar_id: str = "kugelpos-sidecar"
    # Redelivery backoff: first retry after `redeliver_interval`, doubling up to `max_backoff`.
    redeliver_interval: float = 1.0
    max_backoff: float = 30.0
    # How long an app may take to answer one delivery before it counts as failed.
    processing_timeout: float = 60.0
    # How often each app's /dapr/subscribe is polled once it answered (faster until it does).
    subscribe_poll_interval: float = 5.0
    invoke_timeout: float = 60.0
    # Deliveries in flight per (app, topic); Dapr's redis component defaults to 10 as well.
    concurrency: int = 10
    # A per-instance consumer group (consumerID "{uuid}") whose consumers have all been idle
    # this long belongs to a sidecar that died without cleaning up: siblings destroy it.
    stale_group_seconds: float = 600.0
    log_level: str = "info"
    # Dapr's app API token: sent as `dapr-api-token` on every call to an app (deliveries,
    # /dapr/subscribe, invocations), so apps can refuse callers that are not their sidecar.
    app_api_token: str | None = field(default=None, repr=False)
    # Dapr API tokens (DAPR_API_TOKEN), one per app id: a call to this sidecar must present one,
    # and the one it presents says which app is calling. Empty: the API is open.
    api_tokens: tuple[tuple[str, str], ...] = field(default=(), repr=False)
    # daprd's --config: the Configuration whose accessControl guards service invocation.
    config_path: Path | None = None
    # The namespace callers are in, for access-control policies (daprd: NAMESPACE, "default").
    namespace: str = "default"

    def app(self, app_id: str) -> AppTarget | None:
        return next((a for a in self.apps if a.app_id == app_id), None)
