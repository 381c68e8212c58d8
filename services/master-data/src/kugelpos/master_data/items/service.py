"""Rules for common items: unique code, tax code from the tax master, logical delete, cache."""

from __future__ import annotations

from kugelpos.common.auth.principal import Principal
from kugelpos.common.db.mongo import Mongo
from kugelpos.common.errors import AlreadyExistsError, InvalidInputError, NotFoundError
from kugelpos.common.pagination import Page, PageParams

from ..cache import MasterCache
from ..changes.documents import LogKind, Op
from ..changes.log import ChangeLog
from ..config import MasterDataSettings
from ..documents import to_bson
from .documents import ItemDocument
from .repository import ItemRepository
from .schemas import ItemCreateRequest, ItemUpdateRequest


def check_tax_code(settings: MasterDataSettings, tenant_id: str, tax_code: str) -> None:
    codes = {t.tax_code for t in settings.taxes_for(tenant_id)}
    if tax_code not in codes:
        raise InvalidInputError(
            f"Unknown tax code {tax_code!r}; the tax master has {', '.join(sorted(codes))}"
        )


class ItemService:
    def __init__(
        self,
        mongo: Mongo,
        cache: MasterCache,
        settings: MasterDataSettings,
        changes: ChangeLog,
    ) -> None:
        self._mongo = mongo
        self._cache = cache
        self._settings = settings
        self._changes = changes

    def _repo(self, tenant_id: str, actor: Principal | None = None) -> ItemRepository:
        return ItemRepository(
            self._mongo.tenant_db(tenant_id), actor=actor.subject if actor else None
        )

    @staticmethod
    def _key(tenant_id: str, item_code: str) -> dict:
        return {"tenant_id": tenant_id, "item_code": item_code}

    async def create(
        self, actor: Principal, tenant_id: str, body: ItemCreateRequest
    ) -> ItemDocument:
        check_tax_code(self._settings, tenant_id, body.tax_code)
        repo = self._repo(tenant_id, actor)
        existing = await repo.find_one(self._key(tenant_id, body.item_code))
        if existing is not None:
            detail = " (logically deleted; delete it physically to reuse the code)"
            raise AlreadyExistsError(
                f"Item {body.item_code} already exists{detail if existing.is_deleted else ''}"
            )
        doc = ItemDocument(
            tenant_id=tenant_id,
            **body.model_dump(by_alias=False, exclude={"is_discount_restricted"}),
            is_discount_restricted=bool(body.is_discount_restricted),
        )
        try:
            created = await self._changes.create(repo, tenant_id, LogKind.ITEM, body.item_code, doc)
        except AlreadyExistsError as exc:
            raise AlreadyExistsError(f"Item {body.item_code} already exists") from exc
        self._cache.item_changed(tenant_id, body.item_code)
        return created

    async def get(self, tenant_id: str, item_code: str, *, deleted: bool = False) -> ItemDocument:
        """The active item (or, with `deleted`, the logically deleted one)."""
        if not deleted:
            doc = await self.get_active_cached(tenant_id, item_code)
        else:
            doc = await self._repo(tenant_id).find_one(
                {**self._key(tenant_id, item_code), "is_deleted": True}
            )
        if doc is None:
            raise NotFoundError(f"Item {item_code} not found")
        return doc

    async def find_active(self, tenant_id: str, item_code: str) -> ItemDocument | None:
        return await self._repo(tenant_id).find_one(
            {**self._key(tenant_id, item_code), "is_deleted": False}
        )

    async def get_active_cached(self, tenant_id: str, item_code: str) -> ItemDocument | None:
        return await self._cache.get_or_load(
            self._cache.item_key(tenant_id, item_code),
            lambda: self.find_active(tenant_id, item_code),
        )

    async def list(self, tenant_id: str, params: PageParams) -> Page[ItemDocument]:
        return await self._repo(tenant_id).list({"tenant_id": tenant_id}, params)

    async def lookup(
        self,
        tenant_id: str,
        item_codes: list[str] | None,
        category_codes: list[str] | None,
        limit: int,
    ) -> tuple[list[ItemDocument], list[str], bool]:
        """(active items found, asked codes that are none, more beyond `limit`): one query
        either way, for a caller checking a whole request's items at once (stock)."""
        repo = self._repo(tenant_id)
        if item_codes is not None:
            wanted = sorted(set(item_codes))
            found = await repo.active_by_codes(tenant_id, wanted)
            unknown = [code for code in wanted if code not in found]
            return [found[code] for code in wanted if code in found], unknown, False
        items = await repo.active_in_categories(
            tenant_id, sorted(set(category_codes or [])), limit + 1
        )
        return items[:limit], [], len(items) > limit

    async def update(
        self, actor: Principal, tenant_id: str, item_code: str, body: ItemUpdateRequest
    ) -> ItemDocument:
        check_tax_code(self._settings, tenant_id, body.tax_code)
        changes = body.model_dump(by_alias=False)
        changes["is_discount_restricted"] = bool(body.is_discount_restricted)
        doc = await self._changes.update(
            self._repo(tenant_id, actor),
            tenant_id,
            LogKind.ITEM,
            item_code,
            {**self._key(tenant_id, item_code), "is_deleted": False},
            to_bson(changes),
        )
        self._cache.item_changed(tenant_id, item_code)
        if doc is None:
            raise NotFoundError(f"Item {item_code} not found")
        return doc

    async def delete(
        self, actor: Principal, tenant_id: str, item_code: str, *, logical: bool
    ) -> None:
        repo = self._repo(tenant_id, actor)
        key = self._key(tenant_id, item_code)
        if logical:
            done = await self._changes.update(
                repo,
                tenant_id,
                LogKind.ITEM,
                item_code,
                {**key, "is_deleted": False},
                {"is_deleted": True},
                op=Op.DELETE,
            )
            found = done is not None
        else:
            found = await self._changes.delete(repo, tenant_id, LogKind.ITEM, item_code, key)
        self._cache.item_changed(tenant_id, item_code)
        if not found:
            raise NotFoundError(f"Item {item_code} not found")
