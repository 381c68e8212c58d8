"""Persistence of return reasons."""

from __future__ import annotations

from kugelpos.common.db.indexes import index
from kugelpos.common.db.repository import Repository

from .documents import ReturnReasonDocument


class ReturnReasonRepository(Repository[ReturnReasonDocument]):
    collection_name = "master_return_reason"
    document_type = ReturnReasonDocument
    indexes = (index("tenant_id", "reason_code", unique=True),)
    default_sort = (("reason_code", 1),)
