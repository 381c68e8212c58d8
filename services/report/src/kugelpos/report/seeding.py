"""A store day of logs written into the report's MongoDB as the service would hold them.

The one module of the report service meant for tools outside it (with `samples`, the builders
of the logs it consumes): the report benchmark (`python -m kugelpos.bench --only
report.latency`) times reports over days of up to 20,000 transactions, and the embedded MongoDB
applies a few transactions a second on a 2-core machine. The service itself never imports it;
its tests do (services/report/tests/test_report_seeding.py), so a change of the aggregates that
this module does not follow fails there, not in a benchmark run.

- `add_to_aggregates`: logs merged by the service's own pure `Aggregator` (the same
  `contribute` and layout as the consumer and the rebuild) and added to the aggregates in bulk.
  No raw log, inbox record or session is stored: reports read only the aggregates.
- `apply_logs`: logs through the report's own consumer (`apply`: inbox, raw log and aggregates
  in one transaction), exactly the path of a delivered event.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable, Mapping, Sequence
from typing import Any
from zoneinfo import ZoneInfo

from kugelpos.common.db.mongo import Mongo
from kugelpos.common.events.logs import TOPIC_TRANLOG, TransactionLog
from kugelpos.common.events.raw_logs import raw_document
from kugelpos.common.infrastructure import build_infrastructure
from kugelpos.report.aggregates import Aggregator, add_aggregates
from kugelpos.report.config import ReportSettings
from kugelpos.report.events import ReportEvents


def _settings(mongodb_uri: str, db_name_prefix: str | None, **more: Any) -> ReportSettings:
    options: dict[str, Any] = {"environment": "development", "mongodb_uri": mongodb_uri, **more}
    if db_name_prefix is not None:
        options["db_name_prefix"] = db_name_prefix
    return ReportSettings(**options)


async def add_to_aggregates(
    *,
    mongodb_uri: str,
    tenant_id: str,
    logs: Iterable[Mapping[str, Any]],
    db_name_prefix: str | None = None,
) -> None:
    """Tranlogs (as the cart publishes them) straight into the tenant's aggregates."""
    settings = _settings(mongodb_uri, db_name_prefix)
    merged = Aggregator(ZoneInfo(settings.timezone))
    for raw in logs:
        merged.add(TOPIC_TRANLOG, raw_document(TransactionLog.model_validate(raw), actor="report"))
    mongo = Mongo(settings)
    try:
        await add_aggregates(mongo.tenant_db(tenant_id), tenant_id, merged)
    finally:
        await mongo.close()


async def apply_logs(
    *,
    mongodb_uri: str,
    secret_key: str,
    logs: Sequence[Mapping[str, Any]],
    concurrency: int = 1,
    db_name_prefix: str | None = None,
) -> float:
    """Tranlogs applied one by one through the report's consumer, as deliveries would be
    (each under its own `event_id`); returns the logs applied per second."""
    settings = _settings(mongodb_uri, db_name_prefix, secret_key=secret_key)
    infra = build_infrastructure(settings, settings.db_name_prefix)
    events = ReportEvents(settings.timezone)
    await events.consumer.start(infra)
    queue = iter(logs)
    started = time.perf_counter()

    async def worker() -> None:
        for raw in queue:
            log = TransactionLog.model_validate(raw)
            await events.consumer.apply(TOPIC_TRANLOG, log, event_id=raw["event_id"])

    try:
        async with asyncio.TaskGroup() as group:
            for _ in range(concurrency):
                group.create_task(worker())
    finally:
        await infra.close()
    return len(logs) / (time.perf_counter() - started)
