"""Rules for store prices: only for active common items, unique per store, cached details."""

from __future__ import annotations

from kugelpos.common.auth.principal import Principal
from kugelpos.common.db.mongo import Mongo
from kugelpos.common.errors import AlreadyExistsError, NotFoundError
from kugelpos.common.pagination import Page, PageParams

from ..cache import MasterCache
from ..changes.documents import LogKind
from ..changes.log import ChangeLog
from ..documents import to_bson
from ..items.service import ItemService
from ..schemas import display_time
from .documents import StoreItemDocument
from .repository import StoreItemRepository
from .schemas import ItemStoreDetailResponse


class StoreItemService:
    def __init__(
        self, mongo: Mongo, cache: MasterCache, items: ItemService, changes: ChangeLog
    ) -> None:
        self._mongo = mongo
        self._cache = cache
        self._items = items
        self._changes = changes

    def _repo(self, tenant_id: str, actor: Principal | None = None) -> StoreItemRepository:
        return StoreItemRepository(
            self._mongo.tenant_db(tenant_id), actor=actor.subject if actor else None
        )

    @staticmethod
    def _key(tenant_id: str, store_code: str, item_code: str) -> dict:
        return {"tenant_id": tenant_id, "store_code": store_code, "item_code": item_code}

    async def create(
        self, actor: Principal, tenant_id: str, store_code: str, item_code: str, price
    ) -> StoreItemDocument:
        if await self._items.find_active(tenant_id, item_code) is None:
            raise NotFoundError(f"Item {item_code} not found in the common item master")
        repo = self._repo(tenant_id, actor)
        if await repo.find_one(self._key(tenant_id, store_code, item_code)) is not None:
            raise AlreadyExistsError(f"Item {item_code} already has a price in store {store_code}")
        doc = StoreItemDocument(
            tenant_id=tenant_id, store_code=store_code, item_code=item_code, store_price=price
        )
        try:
            created = await self._changes.create(
                repo, tenant_id, LogKind.STORE_ITEM, item_code, doc, store_code=store_code
            )
        except AlreadyExistsError as exc:
            raise AlreadyExistsError(
                f"Item {item_code} already has a price in store {store_code}"
            ) from exc
        self._cache.store_item_changed(tenant_id, store_code, item_code)
        return created

    async def get(self, tenant_id: str, store_code: str, item_code: str) -> StoreItemDocument:
        return await self._repo(tenant_id).get(
            self._key(tenant_id, store_code, item_code),
            what=f"Item {item_code} of store {store_code}",
        )

    async def list(self, tenant_id: str, store_code: str, params: PageParams) -> Page:
        return await self._repo(tenant_id).list(
            {"tenant_id": tenant_id, "store_code": store_code}, params
        )

    async def update(
        self, actor: Principal, tenant_id: str, store_code: str, item_code: str, price
    ) -> StoreItemDocument:
        doc = await self._changes.update(
            self._repo(tenant_id, actor),
            tenant_id,
            LogKind.STORE_ITEM,
            item_code,
            self._key(tenant_id, store_code, item_code),
            to_bson({"store_price": price}),
            store_code=store_code,
        )
        self._cache.store_item_changed(tenant_id, store_code, item_code)
        if doc is None:
            raise NotFoundError(f"Item {item_code} of store {store_code} not found")
        return doc

    async def delete(self, tenant_id: str, store_code: str, item_code: str) -> None:
        deleted = await self._changes.delete(
            self._repo(tenant_id),
            tenant_id,
            LogKind.STORE_ITEM,
            item_code,
            self._key(tenant_id, store_code, item_code),
            store_code=store_code,
        )
        self._cache.store_item_changed(tenant_id, store_code, item_code)
        if not deleted:
            raise NotFoundError(f"Item {item_code} of store {store_code} not found")

    async def details(
        self, tenant_id: str, store_code: str, item_code: str
    ) -> ItemStoreDetailResponse:
        """Common item merged with the store price (cached; 404 when no active item)."""
        found = await self._cache.get_or_load(
            self._cache.details_key(tenant_id, store_code, item_code),
            lambda: self._load_details(tenant_id, store_code, item_code),
        )
        if found is None:
            raise NotFoundError(f"Item {item_code} not found")
        return found

    async def _load_details(
        self, tenant_id: str, store_code: str, item_code: str
    ) -> ItemStoreDetailResponse | None:
        item = await self._items.find_active(tenant_id, item_code)
        if item is None:
            return None
        store = await self._repo(tenant_id).find_one(self._key(tenant_id, store_code, item_code))
        stamped = store or item
        return ItemStoreDetailResponse(
            item_code=item.item_code,
            description=item.description,
            unit_price=item.unit_price,
            unit_cost=item.unit_cost,
            store_price=store.store_price if store else None,
            item_details=item.item_details,
            image_urls=item.image_urls,
            category_code=item.category_code,
            tax_code=item.tax_code,
            is_discount_restricted=item.is_discount_restricted,
            is_stored_value=item.is_stored_value,
            is_deleted=False,
            entry_datetime=display_time(stamped.created_at),
            last_update_datetime=display_time(stamped.updated_at),
        )
