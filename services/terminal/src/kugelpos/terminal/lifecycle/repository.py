"""Persistence of the cash and open/close logs, with their indexes."""

from __future__ import annotations

from kugelpos.common.db.indexes import index
from kugelpos.common.db.repository import Repository

from .documents import CashLogDocument, OpenCloseLogDocument

_SESSION = ("tenant_id", "store_code", "terminal_no", "business_date", "open_counter")


class CashLogRepository(Repository[CashLogDocument]):
    collection_name = "log_cash_in_out"
    document_type = CashLogDocument
    indexes = (index("event_id", unique=True), index(*_SESSION, "generate_date_time"))


class OpenCloseLogRepository(Repository[OpenCloseLogDocument]):
    collection_name = "log_open_close"
    document_type = OpenCloseLogDocument
    indexes = (index("event_id", unique=True), index(*_SESSION, "operation", unique=True))
