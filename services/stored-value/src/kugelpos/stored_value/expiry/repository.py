"""Card settings (one per tenant) and the expiry job's runs (unique per tenant and day: the
replicas' lease, commons.jobs)."""

from __future__ import annotations

from kugelpos.common.db.indexes import index
from kugelpos.common.db.repository import Repository
from kugelpos.common.jobs import JOB_RUN_INDEXES

from .documents import CardSettings, ExpiryRun

EXPIRY_RUNS = "expiry_runs"


class CardSettingsRepository(Repository[CardSettings]):
    collection_name = "card_settings"
    document_type = CardSettings
    indexes = (index("tenant_id", unique=True),)


class ExpiryRunRepository(Repository[ExpiryRun]):
    collection_name = EXPIRY_RUNS
    document_type = ExpiryRun
    indexes = JOB_RUN_INDEXES
