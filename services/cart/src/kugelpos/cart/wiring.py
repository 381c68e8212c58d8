"""The cart's process-wide objects, built once with the app."""

from __future__ import annotations

from kugelpos.common.clients.services import ServiceCaller
from kugelpos.common.events.outbox import Outbox
from kugelpos.common.observability.health import HealthCheck, state_store_check
from kugelpos.common.wiring import Wiring

from .cache.terminals import TerminalInfoCache
from .carts.repository import CartStore
from .config import CartSettings
from .events import CartEvents
from .master_data_client import MasterDataClient
from .plugins.registry import load_plugins
from .stored_value_client import StoredValueClient


class CartWiring(Wiring[CartSettings]):
    def __init__(self, settings: CartSettings) -> None:
        super().__init__(settings)
        infra = self.infra
        self.plugins = load_plugins(settings.plugins_file)
        # Terminal credentials and terminal info, from the terminal service: cached here and
        # in the shared `terminalstore`, dropped on `terminal_changed` and open/close logs.
        self.terminals = TerminalInfoCache(
            infra.http,
            infra.dapr,
            settings.base_url_terminal,
            store=settings.terminal_store,
            store_ttl_seconds=settings.terminal_cache_ttl_seconds,
            local_ttl_seconds=settings.terminal_local_cache_seconds,
            stale_max_age=settings.terminal_credential_stale_seconds,
            on_stale=lambda: infra.metrics.fallback("terminal", "credential"),
        )
        # Items, payments, taxes, parameters, promotions and store names, read over HTTP.
        self.master_data = MasterDataClient(
            infra.http,
            infra.auth.codec,
            base_url_master_data=settings.base_url_master_data,
            base_url_terminal=settings.base_url_terminal,
            ttl=settings.master_cache_ttl_seconds,
            max_entries=settings.master_cache_max_entries,
            stale_max_age=settings.master_stale_max_age_seconds,
            on_stale=lambda read: infra.metrics.fallback("master-data", read),
        )
        # Gift cards and store credit: loads, holds and credit cards (issue 26).
        self.stored_value = StoredValueClient(
            infra.http, infra.auth.codec, base_url=settings.base_url_stored_value
        )
        self.card_codes = frozenset(
            code for code, plugin in self.plugins.payments.items() if plugin.rule.draws_on_card
        )
        # Other services asked with the cart's token (the terminal's sessions, issue 27).
        self.service_caller = ServiceCaller(infra.http, infra.auth.codec, service="cart")
        # Open carts, in the Dapr state store (`cartstore`).
        self.cart_store = CartStore(infra.dapr, settings.cart_store, settings.cart_ttl_seconds)
        # Tenants whose transaction collections this process has ensured.
        self.ensured_tenants: set[str] = set()
        self.events = CartEvents(settings, self.master_data, self.terminals)
        self.subscriptions = self.events.subscriptions

    @property
    def outbox(self) -> Outbox:
        return self.events.started_outbox()

    def terminal_credentials(self) -> TerminalInfoCache:
        return self.terminals

    def health_checks(self) -> dict[str, HealthCheck]:
        """`dapr_cartstore` (a read of the cart store) and, from the event machinery,
        `background_jobs` (the relay), the checks v1 dashboards read."""
        cartstore = state_store_check(self.infra.dapr, self.settings.cart_store)
        return {"dapr_cartstore": cartstore, **self.events.health_checks(self.infra)}

    async def start(self) -> None:
        await self.events.start(self.infra)

    async def stop(self) -> None:
        await self.events.stop(self.infra)
