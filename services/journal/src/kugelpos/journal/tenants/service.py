"""Idempotent tenant setup: the collections and indexes of `db_journal_<tenant>` (§2.1)."""

from __future__ import annotations

from kugelpos.common.db.mongo import Mongo
from kugelpos.common.db.tenants import ensure_collections
from kugelpos.common.events.inbox import InboxRepository

from ..events import REPOSITORIES


class TenantService:
    def __init__(self, mongo: Mongo) -> None:
        self._mongo = mongo

    async def setup(self, tenant_id: str) -> None:
        # The inbox too: the consumer would create it on the first event anyway.
        await ensure_collections(self._mongo.tenant_db(tenant_id), (InboxRepository, *REPOSITORIES))
