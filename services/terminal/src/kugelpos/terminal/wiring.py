"""The terminal service's process-wide objects, built once with the app."""

from __future__ import annotations

from kugelpos.common.auth.principal import Principal
from kugelpos.common.events.changes import ChangeAnnouncer
from kugelpos.common.events.outbox import Outbox
from kugelpos.common.observability.health import HealthCheck
from kugelpos.common.wiring import Wiring

from .config import TerminalSettings
from .events import TerminalEvents
from .tenants.service import TenantService
from .terminals.service import TerminalService


class LocalTerminalCredentials:
    """The terminal service checks terminal credentials against its own database (the
    other services ask it over HTTP: commons `RemoteTerminalResolver`)."""

    def __init__(self, terminals: TerminalService) -> None:
        self._terminals = terminals

    async def __call__(self, terminal_id: str, api_key: str) -> Principal:
        return await self._terminals.resolve_api_key(terminal_id, api_key)

    async def verify_token(self, principal: Principal) -> Principal:
        return await self._terminals.verify_token(principal)

    async def forget(self, terminal_id: str) -> None:
        """Nothing cached here: every check reads the terminal."""


class TerminalWiring(Wiring[TerminalSettings]):
    # It announces `terminal_changed` and caches no approvals, so it does not listen to it.
    drops_terminal_approvals = False

    def __init__(self, settings: TerminalSettings) -> None:
        super().__init__(settings)
        # Publishes cashlog and opencloselog through the outbox; hears acknowledgements.
        self.events = TerminalEvents(settings)
        self.subscriptions = self.events.subscriptions
        # One per process: it keeps the notices in flight alive until published.
        self.announcer = ChangeAnnouncer(self.infra.dapr)
        self.pin_limiter = self.infra.limiter(
            "terminal-pin-failures",
            free_attempts=settings.pin_max_failures,
            forget_after_seconds=settings.pin_failure_window_seconds,
            base_delay_seconds=settings.pin_delay_seconds,
            max_delay_seconds=settings.pin_max_delay_seconds,
        )

    @property
    def outbox(self) -> Outbox:
        return self.events.started_outbox()

    def terminal_credentials(self) -> LocalTerminalCredentials:
        """Plugged into commons' `get_principal`: X-API-KEY + terminal_id, or a terminal JWT."""
        tenants = TenantService(self.infra.mongo, self.infra.http, self.settings)
        return LocalTerminalCredentials(TerminalService(self.infra.mongo, tenants))

    def health_checks(self) -> dict[str, HealthCheck]:
        # `background_jobs` (the outbox relay), as v1 dashboards read it.
        return self.events.health_checks(self.infra)

    async def start(self) -> None:
        await self.events.start(self.infra)

    async def stop(self) -> None:
        await self.events.stop(self.infra)
