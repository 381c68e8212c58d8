"""Settings base shared by every service: environment > `.env` > defaults."""

from __future__ import annotations

from typing import Self

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Values that ship in sample files; a deployment that still carries one is forgeable.
KNOWN_DEFAULT_SECRETS = frozenset(
    {
        "",
        "changeme",
        "secret",
        "test-secret-key-for-development-only",
        "test-api-key-for-development-only",
    }
)
DEVELOPMENT = "development"


class InsecureSettingsError(RuntimeError):
    """Raised at start-up when a secret is missing or a known default outside development."""


class CommonSettings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env", env_ignore_empty=True, extra="ignore", frozen=False
    )

    service_name: str = "kugelpos"
    service_version: str = "1.0.0"
    environment: str = "production"
    log_level: str = "INFO"
    timezone: str = "Asia/Tokyo"

    secret_key: str = "test-secret-key-for-development-only"
    algorithm: str = "HS256"
    pubsub_notify_api_key: str = "test-api-key-for-development-only"
    # Dapr's app API token (APP_API_TOKEN, the same value the sidecar is given): subscriber
    # routes refuse a delivery without it. Required outside development.
    app_api_token: str | None = None
    # Dapr's API token (DAPR_API_TOKEN, the same value the app's own sidecar is given): sent as
    # `dapr-api-token` on every call to the sidecar, which refuses any call without it. The
    # other direction from APP_API_TOKEN. Required outside development, unless the platform's
    # sidecar cannot be given one (Azure Container Apps): DAPR_API_TOKEN_REQUIRED=false.
    dapr_api_token: str | None = None
    dapr_api_token_required: bool = True

    mongodb_uri: str = "mongodb://localhost:27017/?replicaSet=rs0"
    db_name_prefix: str = "db_common"
    db_max_pool_size: int = 100
    db_min_pool_size: int = 0
    db_max_idle_time_ms: int = 120_000
    db_server_selection_timeout_ms: int = 5_000
    db_connect_timeout_ms: int = 10_000
    db_socket_timeout_ms: int = 30_000

    dapr_http_endpoint: str = "http://127.0.0.1:3500"
    # Dapr state store for failed-attempt counters and other short-lived shared state.
    throttle_state_store: str = "statestore"
    # `Idempotency-Key` records of POSTs (every service honours the header).
    idempotency_store: str = "statestore"
    idempotency_ttl_seconds: int = 86_400
    idempotency_in_flight_seconds: int = 60
    redis_url: str | None = None

    # Events (consumers and publishers): a handler error (a bug, not a database or dependency
    # outage, which is retried until it is back) is tried this many times, the second try at
    # once, then after base, 2 x base, 4 x base... (5 tries, 120 s: about 14 minutes), then
    # kept as a dead letter for an operator to replay. A publisher stops republishing an event
    # a consumer reported failed after as many tries (`given_up`).
    event_retry_tries: int = Field(default=5, ge=1, le=100)
    event_retry_base_seconds: float = Field(default=120.0, ge=0.0)

    http_timeout_seconds: float = 10.0
    http_max_attempts: int = 3
    http_backoff_seconds: float = 0.2
    breaker_failure_threshold: int = 3
    breaker_reset_seconds: float = 60.0

    base_url_account: str = "http://127.0.0.1:8000/api/v1"
    base_url_terminal: str = "http://127.0.0.1:8001/api/v1"
    base_url_master_data: str = "http://127.0.0.1:8002/api/v1"
    base_url_cart: str = "http://127.0.0.1:8003/api/v1"
    base_url_report: str = "http://127.0.0.1:8004/api/v1"
    base_url_journal: str = "http://127.0.0.1:8005/api/v1"
    base_url_stock: str = "http://127.0.0.1:8006/api/v1"
    base_url_stored_value: str = "http://127.0.0.1:8007/api/v1"

    # A terminal credential (API key or terminal JWT) the terminal service approved is
    # trusted this long without asking again; a `terminal_changed` notice (key rotated,
    # terminal deleted, opened or closed) drops the approval at once, so this only bounds
    # how long a lost notice can leave a revoked credential working.
    terminal_credential_cache_seconds: float = Field(default=10.0, ge=0, le=300)
    # While the terminal service cannot be reached, the last approval of a credential is
    # served this long (only the terminal service revokes, so nothing is given up).
    terminal_credential_stale_seconds: float = Field(default=900.0, ge=0, le=86_400)

    cors_origins: list[str] = Field(default_factory=lambda: ["*"])

    @property
    def is_development(self) -> bool:
        return self.environment.lower() == DEVELOPMENT

    @model_validator(mode="after")
    def _refuse_default_secrets(self) -> Self:
        if self.is_development:
            return self
        for name in ("secret_key", "pubsub_notify_api_key"):
            value = getattr(self, name)
            if value.strip() in KNOWN_DEFAULT_SECRETS or len(value) < 32:
                raise InsecureSettingsError(
                    f"{name.upper()} must be set to a strong value (32+ characters) "
                    f"unless ENVIRONMENT={DEVELOPMENT}"
                )
        token = (self.app_api_token or "").strip()
        if token in KNOWN_DEFAULT_SECRETS or len(token) < 32:
            raise InsecureSettingsError(
                "APP_API_TOKEN must be set to a strong value (32+ characters), the same the "
                f"Dapr sidecar is given, unless ENVIRONMENT={DEVELOPMENT}"
            )
        dapr_token = (self.dapr_api_token or "").strip()
        if self.dapr_api_token_required and (
            dapr_token in KNOWN_DEFAULT_SECRETS or len(dapr_token) < 32
        ):
            raise InsecureSettingsError(
                "DAPR_API_TOKEN must be set to a strong value (32+ characters), the same the "
                f"app's Dapr sidecar is given, unless ENVIRONMENT={DEVELOPMENT} (or "
                "DAPR_API_TOKEN_REQUIRED=false where the platform's sidecar takes no token)"
            )
        return self

    def base_url(self, service: str) -> str:
        """Base URL of another service by its name (`master-data` → `base_url_master_data`)."""
        attr = "base_url_" + service.replace("-", "_").lower()
        value = getattr(self, attr, None)
        if not isinstance(value, str):
            raise KeyError(f"no base URL configured for service {service!r}")
        return value.rstrip("/")
