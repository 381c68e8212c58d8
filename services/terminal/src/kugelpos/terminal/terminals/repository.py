"""Persistence of terminals and of the API-key index, with their indexes."""

from __future__ import annotations

from kugelpos.common.db.indexes import index
from kugelpos.common.db.repository import Repository

from .documents import ApiKeyDocument, TerminalDocument


class TerminalRepository(Repository[TerminalDocument]):
    collection_name = "info_terminal"
    document_type = TerminalDocument
    indexes = (
        index("terminal_id", unique=True),
        index("tenant_id", "store_code", "terminal_no", unique=True),
    )
    default_sort = (("terminal_id", 1),)


class ApiKeyRepository(Repository[ApiKeyDocument]):
    """In the shared database: finds a terminal by its key when no terminal_id is given."""

    collection_name = "terminal_keys"
    document_type = ApiKeyDocument
    indexes = (index("api_key_hash", unique=True), index("terminal_id", unique=True))
