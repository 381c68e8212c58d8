"""Rules for return reasons: unique code. Read by the cart when it takes a return (not on the
sale's hot path), so not cached and no change notice (like categories)."""

from __future__ import annotations

from kugelpos.common.auth.principal import Principal
from kugelpos.common.db.mongo import Mongo
from kugelpos.common.errors import AlreadyExistsError, NotFoundError
from kugelpos.common.pagination import Page, PageParams

from ..changes.documents import LogKind
from ..changes.log import ChangeLog
from .documents import ReturnReasonDocument
from .repository import ReturnReasonRepository
from .schemas import ReturnReasonCreateRequest, ReturnReasonUpdateRequest


class ReturnReasonService:
    def __init__(self, mongo: Mongo, changes: ChangeLog) -> None:
        self._mongo = mongo
        self._changes = changes

    def _repo(self, tenant_id: str, actor: Principal | None = None) -> ReturnReasonRepository:
        return ReturnReasonRepository(
            self._mongo.tenant_db(tenant_id), actor=actor.subject if actor else None
        )

    @staticmethod
    def _key(tenant_id: str, code: str) -> dict:
        return {"tenant_id": tenant_id, "reason_code": code}

    async def create(
        self, actor: Principal, tenant_id: str, body: ReturnReasonCreateRequest
    ) -> ReturnReasonDocument:
        repo = self._repo(tenant_id, actor)
        message = f"Return reason {body.reason_code} already exists"
        if await repo.find_one(self._key(tenant_id, body.reason_code)) is not None:
            raise AlreadyExistsError(message)
        try:
            return await self._changes.create(
                repo,
                tenant_id,
                LogKind.RETURN_REASON,
                body.reason_code,
                ReturnReasonDocument(tenant_id=tenant_id, **body.model_dump(by_alias=False)),
            )
        except AlreadyExistsError as exc:
            raise AlreadyExistsError(message) from exc

    async def get(self, tenant_id: str, code: str) -> ReturnReasonDocument:
        return await self._repo(tenant_id).get(
            self._key(tenant_id, code), what=f"Return reason {code}"
        )

    async def list(self, tenant_id: str, params: PageParams) -> Page[ReturnReasonDocument]:
        return await self._repo(tenant_id).list({"tenant_id": tenant_id}, params)

    async def update(
        self, actor: Principal, tenant_id: str, code: str, body: ReturnReasonUpdateRequest
    ) -> ReturnReasonDocument:
        doc = await self._changes.update(
            self._repo(tenant_id, actor),
            tenant_id,
            LogKind.RETURN_REASON,
            code,
            self._key(tenant_id, code),
            body.model_dump(by_alias=False),
        )
        if doc is None:
            raise NotFoundError(f"Return reason {code} not found")
        return doc

    async def delete(self, tenant_id: str, code: str) -> None:
        repo = self._repo(tenant_id)
        key = self._key(tenant_id, code)
        if not await self._changes.delete(repo, tenant_id, LogKind.RETURN_REASON, code, key):
            raise NotFoundError(f"Return reason {code} not found")
