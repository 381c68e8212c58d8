"""Persistence of parameters."""

from __future__ import annotations

from kugelpos.common.db.indexes import index
from kugelpos.common.db.repository import Repository

from .documents import ParameterDocument


class ParameterRepository(Repository[ParameterDocument]):
    collection_name = "master_settings"
    document_type = ParameterDocument
    indexes = (index("tenant_id", "name", unique=True),)
    default_sort = (("name", 1),)
