"""The report service's process-wide objects, built once with the app."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path

from kugelpos.common.wiring import ConsumerWiring

from .config import ReportSettings
from .events import ReportEvents
from .masters import MasterNames
from .plugins.registry import DEFAULT_REGISTRY, load_makers
from .reports.service import ReportService


class ReportWiring(ConsumerWiring[ReportSettings]):
    def __init__(self, settings: ReportSettings) -> None:
        super().__init__(settings)
        self.events = ReportEvents(settings.timezone)
        self.consumer = self.events.consumer

    @cached_property
    def report_service(self) -> ReportService:
        """Made at the first report asked for (it reads the report plugin registry), then
        kept: it holds the master names cache."""
        infra, settings = self.infra, self.settings
        names = MasterNames(
            infra.http,
            infra.auth.codec,
            settings.base_url_master_data,
            settings.master_names_cache_seconds,
        )
        registry = (
            Path(settings.report_plugins_file) if settings.report_plugins_file else DEFAULT_REGISTRY
        )
        return ReportService(
            mongo=infra.mongo,
            ensure_tenant=self.consumer.ensure_tenant,
            makers=load_makers({"master_data": names}, registry),
            http=infra.http,
            codec=infra.auth.codec,
            terminal_url=settings.base_url_terminal,
            journal_url=settings.base_url_journal,
            timezone=settings.timezone,
        )
