"""Persistence of staff members."""

from __future__ import annotations

from kugelpos.common.db.indexes import index
from kugelpos.common.db.repository import Repository

from .documents import StaffDocument


class StaffRepository(Repository[StaffDocument]):
    collection_name = "master_staff"
    document_type = StaffDocument
    indexes = (index("tenant_id", "id", unique=True), index("tenant_id", "name"))
    default_sort = (("id", 1),)
