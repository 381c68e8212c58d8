"""Idempotent tenant setup: every repository's indexes in `db_master_data_<tenant>`."""

from __future__ import annotations

from kugelpos.common.db.mongo import Mongo
from kugelpos.common.db.repository import Repository
from kugelpos.common.db.tenants import ensure_collections

from ..cache import MasterCache
from ..categories.repository import CategoryRepository
from ..changes.log import ChangeLog
from ..changes.repository import ChangeLogRepository
from ..item_books.repository import ItemBookRepository
from ..items.repository import ItemRepository
from ..parameters.repository import ParameterRepository
from ..payments.repository import PaymentRepository
from ..promotions.repository import PromotionRepository
from ..return_reasons.repository import ReturnReasonRepository
from ..staff.repository import StaffRepository
from ..store_items.repository import StoreItemRepository

REPOSITORIES: tuple[type[Repository], ...] = (
    StaffRepository,
    ItemRepository,
    StoreItemRepository,
    CategoryRepository,
    PaymentRepository,
    ParameterRepository,
    PromotionRepository,
    ItemBookRepository,
    ReturnReasonRepository,
    ChangeLogRepository,
)


class TenantService:
    def __init__(self, mongo: Mongo, cache: MasterCache, changes: ChangeLog) -> None:
        self._mongo = mongo
        self._cache = cache
        self._changes = changes

    async def setup_tenant(self, tenant_id: str) -> None:
        await ensure_collections(self._mongo.tenant_db(tenant_id), REPOSITORIES)
        # The tax master (configuration) starts the tenant's change log.
        await self._changes.log_tax_table(tenant_id)
        self._cache.tenant_changed(tenant_id)
