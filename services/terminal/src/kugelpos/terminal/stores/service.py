"""Store rules: add, list, get, update, delete (refused while terminals use the store)."""

from __future__ import annotations

from typing import Any

from kugelpos.common.auth.principal import Principal
from kugelpos.common.clock import utcnow
from kugelpos.common.db.mongo import Mongo
from kugelpos.common.pagination import Page, PageParams

from ..errors import StoreAlreadyExistsError, StoreDeleteError, StoreNotFoundError
from ..tenants.documents import StoreDocument, TenantDocument
from ..tenants.repository import TenantRepository
from ..tenants.schemas import StoreCreateRequest, StoreUpdateRequest
from ..tenants.service import TenantService
from ..terminals.repository import TerminalRepository

SORTABLE = frozenset({"store_code", "store_name", "created_at", "status"})


class StoreService:
    def __init__(self, mongo: Mongo, tenants: TenantService) -> None:
        self._mongo = mongo
        self._tenants = tenants

    def _repo(self, tenant_id: str, actor: str | None = None) -> TenantRepository:
        return self._tenants.tenants(tenant_id, actor)

    async def add(
        self, actor: Principal, tenant_id: str, body: StoreCreateRequest
    ) -> TenantDocument:
        await self._tenants.get(tenant_id)
        store = StoreDocument(
            store_code=body.store_code, store_name=body.store_name, tags=body.tags
        )
        updated = await self._repo(tenant_id, actor.username).update(
            {"tenant_id": tenant_id, "stores.store_code": {"$ne": body.store_code}},
            {},
            extra={"$push": {"stores": store.model_dump()}},
        )
        if updated is None:
            raise StoreAlreadyExistsError(f"Store {body.store_code} already exists")
        return updated

    async def list(self, tenant_id: str, params: PageParams) -> Page[StoreDocument]:
        tenant = await self._tenants.get(tenant_id)
        stores = list(tenant.stores)
        for field, direction in reversed(params.sort or [("store_code", 1)]):
            stores.sort(key=lambda s, f=field: _sort_key(getattr(s, f)), reverse=direction < 0)
        items = stores[params.skip :]
        if params.limit:
            items = items[: params.limit]
        return Page(items=items, total=len(stores), params=params)

    async def get(self, tenant_id: str, store_code: str) -> StoreDocument:
        store = (await self._tenants.get(tenant_id)).store(store_code)
        if store is None:
            raise StoreNotFoundError(f"Store {store_code} not found")
        return store

    async def update(
        self, actor: Principal, tenant_id: str, store_code: str, body: StoreUpdateRequest
    ) -> StoreDocument:
        await self._tenants.get(tenant_id)
        changes: dict[str, Any] = {"stores.$.store_name": body.store_name}
        if body.status is not None:
            changes["stores.$.status"] = body.status.value
        if body.business_date is not None:
            changes["stores.$.business_date"] = body.business_date
        if body.tags is not None:
            changes["stores.$.tags"] = body.tags
        changes["stores.$.updated_at"] = utcnow()
        updated = await self._repo(tenant_id, actor.username).update(
            {"tenant_id": tenant_id, "stores.store_code": store_code}, changes
        )
        store = updated.store(store_code) if updated else None
        if store is None:
            raise StoreNotFoundError(f"Store {store_code} not found")
        return store

    async def delete(self, actor: Principal, tenant_id: str, store_code: str) -> None:
        await self.get(tenant_id, store_code)
        terminals = TerminalRepository(self._mongo.tenant_db(tenant_id))
        if await terminals.count({"tenant_id": tenant_id, "store_code": store_code}):
            raise StoreDeleteError(f"Store {store_code} still has terminals; delete them first")
        updated = await self._repo(tenant_id, actor.username).update(
            {"tenant_id": tenant_id, "stores.store_code": store_code},
            {},
            extra={"$pull": {"stores": {"store_code": store_code}}},
        )
        if updated is None:
            raise StoreNotFoundError(f"Store {store_code} not found")


def _sort_key(value: Any) -> tuple[bool, Any]:
    # None sorts first, like MongoDB.
    return (value is not None, value if value is not None else "")
