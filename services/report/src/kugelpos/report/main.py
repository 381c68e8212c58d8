"""The Report service application."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from kugelpos.common.auth.remote_terminal import remote_terminal_resolver
from kugelpos.common.events.consumer import EventConsumer
from kugelpos.common.events.subscriptions import V1_SUBSCRIBER_ROUTES
from kugelpos.common.web.app import Infrastructure, create_app, statestore_checks
from kugelpos.common.web.dead_letters import dead_letters_router

from . import errors as _errors  # noqa: F401  (registers the 412xxx messages)
from .config import ReportSettings, get_settings
from .events import ReportEvents
from .masters import MasterNames
from .plugins.registry import DEFAULT_REGISTRY, load_makers
from .reports.router import router as reports_router
from .reports.service import ReportService
from .tenants.router import router as tenants_router
from .transactions.router import router as transactions_router

# The v1 text, typo included, is what clients compare against.
WELCOME = "Welcome to Kugel-POS Report API. supoorted version: v1"


def build_app() -> FastAPI:
    settings = get_settings()
    events = ReportEvents(settings.timezone)
    app = create_app(
        settings=settings,
        title="Kugel POS Report",
        db_prefix=settings.db_name_prefix,
        routers=[
            tenants_router,
            reports_router,
            transactions_router,
            dead_letters_router(events.consumer),
        ],
        welcome=WELCOME,
        terminal_credentials=remote_terminal_resolver,
        subscriptions=events.consumer.subscriptions,
        subscriptions_in_schema=V1_SUBSCRIBER_ROUTES,
        # `dapr_statestore`, as v1 monitors read it (a read, never a write).
        extra_checks=statestore_checks,
        on_startup=[events.consumer.start],
    )
    app.state.consumer = events.consumer
    app.state.report_events = events
    cache: dict[str, ReportService] = {}

    def factory(infra: Infrastructure, consumer: EventConsumer) -> ReportService:
        service = cache.get("service")
        if service is None:
            assert isinstance(infra.settings, ReportSettings)
            s = infra.settings
            names = MasterNames(
                infra.http, infra.auth.codec, s.base_url_master_data, s.master_names_cache_seconds
            )
            registry = Path(s.report_plugins_file) if s.report_plugins_file else DEFAULT_REGISTRY
            service = ReportService(
                mongo=infra.mongo,
                ensure_tenant=consumer.ensure_tenant,
                makers=load_makers({"master_data": names}, registry),
                http=infra.http,
                codec=infra.auth.codec,
                terminal_url=s.base_url_terminal,
                journal_url=s.base_url_journal,
                timezone=s.timezone,
            )
            cache["service"] = service
        return service

    app.state.report_service_factory = factory
    return app


app = build_app()
