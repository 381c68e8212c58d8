"""Rules for categories: unique code, tax code from the tax master."""

from __future__ import annotations

from kugelpos.common.auth.principal import Principal
from kugelpos.common.db.mongo import Mongo
from kugelpos.common.errors import AlreadyExistsError, NotFoundError
from kugelpos.common.pagination import Page, PageParams

from ..changes.documents import LogKind
from ..changes.log import ChangeLog
from ..config import MasterDataSettings
from ..items.service import check_tax_code
from .documents import CategoryDocument
from .repository import CategoryRepository
from .schemas import CategoryMasterCreateRequest, CategoryMasterUpdateRequest


class CategoryService:
    def __init__(self, mongo: Mongo, settings: MasterDataSettings, changes: ChangeLog) -> None:
        self._mongo = mongo
        self._settings = settings
        self._changes = changes

    def _repo(self, tenant_id: str, actor: Principal | None = None) -> CategoryRepository:
        return CategoryRepository(
            self._mongo.tenant_db(tenant_id), actor=actor.subject if actor else None
        )

    @staticmethod
    def _key(tenant_id: str, code: str) -> dict:
        return {"tenant_id": tenant_id, "category_code": code}

    async def create(
        self, actor: Principal, tenant_id: str, body: CategoryMasterCreateRequest
    ) -> CategoryDocument:
        check_tax_code(self._settings, tenant_id, body.tax_code)
        repo = self._repo(tenant_id, actor)
        message = f"Category {body.category_code} already exists"
        if await repo.find_one(self._key(tenant_id, body.category_code)) is not None:
            raise AlreadyExistsError(message)
        try:
            return await self._changes.create(
                repo,
                tenant_id,
                LogKind.CATEGORY,
                body.category_code,
                CategoryDocument(tenant_id=tenant_id, **body.model_dump(by_alias=False)),
            )
        except AlreadyExistsError as exc:
            raise AlreadyExistsError(message) from exc

    async def get(self, tenant_id: str, code: str) -> CategoryDocument:
        return await self._repo(tenant_id).get(self._key(tenant_id, code), what=f"Category {code}")

    async def list(self, tenant_id: str, params: PageParams) -> Page[CategoryDocument]:
        return await self._repo(tenant_id).list({"tenant_id": tenant_id}, params)

    async def update(
        self, actor: Principal, tenant_id: str, code: str, body: CategoryMasterUpdateRequest
    ) -> CategoryDocument:
        check_tax_code(self._settings, tenant_id, body.tax_code)
        doc = await self._changes.update(
            self._repo(tenant_id, actor),
            tenant_id,
            LogKind.CATEGORY,
            code,
            self._key(tenant_id, code),
            body.model_dump(by_alias=False),
        )
        if doc is None:
            raise NotFoundError(f"Category {code} not found")
        return doc

    async def delete(self, tenant_id: str, code: str) -> None:
        repo = self._repo(tenant_id)
        key = self._key(tenant_id, code)
        if not await self._changes.delete(repo, tenant_id, LogKind.CATEGORY, code, key):
            raise NotFoundError(f"Category {code} not found")
