"""Terminal service settings (environment > `.env` > defaults)."""

from __future__ import annotations

from functools import cache

from kugelpos.common.events.config import OutboxSettings

TOPIC_CASHLOG = "cashlog_report"
TOPIC_OPENCLOSELOG = "opencloselog_report"


class TerminalSettings(OutboxSettings):
    service_name: str = "terminal"
    db_name_prefix: str = "db_terminal"
    terminal_token_expire_hours: int = 24
    # Services whose `POST /api/v1/tenants` runs when a tenant is created here, in order.
    tenant_setup_services: str = "master-data,cart,report,journal,stock"
    # Who must acknowledge each terminal event before it counts as delivered.
    cashlog_consumers: str = "report,journal"
    opencloselog_consumers: str = "report,journal"
    # Wrong staff PINs per tenant and staff member: from the 5th failure in a row on, each
    # makes the next attempt wait PIN_DELAY_SECONDS, doubling, at most PIN_MAX_DELAY_SECONDS;
    # forgotten PIN_FAILURE_WINDOW_SECONDS after the last wait ends. A PIN has few digits, so
    # the count is per staff member whatever the till (master-data counts the same way).
    pin_max_failures: int = 5
    pin_failure_window_seconds: int = 300
    pin_delay_seconds: float = 5.0
    pin_max_delay_seconds: float = 300.0
    # Ask cart for the session's sales at close (tolerates cart being absent).
    close_query_cart: bool = True

    @property
    def setup_services(self) -> list[str]:
        return self.names(self.tenant_setup_services)

    @property
    def event_consumers(self) -> dict[str, list[str]]:
        return {
            TOPIC_CASHLOG: self.names(self.cashlog_consumers),
            TOPIC_OPENCLOSELOG: self.names(self.opencloselog_consumers),
        }

    def configured_base_url(self, service: str) -> str | None:
        """A service's base URL, or None in development when BASE_URL_<NAME> is not set
        (the local stack sets it exactly for the services it runs)."""
        field = "base_url_" + service.replace("-", "_").lower()
        if field not in type(self).model_fields:
            return None
        if self.is_development and field not in self.model_fields_set:
            return None
        return self.base_url(service)


@cache
def get_settings() -> TerminalSettings:
    return TerminalSettings()
