"""Persistence of settings."""

from __future__ import annotations

from kugelpos.common.db.indexes import index
from kugelpos.common.db.repository import Repository

from .documents import SettingsDocument


class SettingsRepository(Repository[SettingsDocument]):
    collection_name = "master_settings"
    document_type = SettingsDocument
    indexes = (index("tenant_id", "name", unique=True),)
    default_sort = (("name", 1),)
