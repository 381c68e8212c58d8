"""Persistence of payment methods."""

from __future__ import annotations

from kugelpos.common.db.indexes import index
from kugelpos.common.db.repository import Repository

from .documents import PaymentDocument


class PaymentRepository(Repository[PaymentDocument]):
    collection_name = "master_payment"
    document_type = PaymentDocument
    indexes = (index("tenant_id", "payment_code", unique=True),)
    default_sort = (("payment_code", 1),)
