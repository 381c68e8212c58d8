"""Rules for payment methods: unique code; lookups by code are cached."""

from __future__ import annotations

from kugelpos.common.auth.principal import Principal
from kugelpos.common.db.mongo import Mongo
from kugelpos.common.errors import AlreadyExistsError, NotFoundError
from kugelpos.common.pagination import Page, PageParams

from ..cache import MasterCache
from ..changes.documents import LogKind
from ..changes.log import ChangeLog
from ..documents import to_bson
from .documents import PaymentDocument
from .repository import PaymentRepository
from .schemas import PaymentCreateRequest, PaymentUpdateRequest


class PaymentService:
    def __init__(self, mongo: Mongo, cache: MasterCache, changes: ChangeLog) -> None:
        self._mongo = mongo
        self._cache = cache
        self._changes = changes

    def _repo(self, tenant_id: str, actor: Principal | None = None) -> PaymentRepository:
        return PaymentRepository(
            self._mongo.tenant_db(tenant_id), actor=actor.subject if actor else None
        )

    @staticmethod
    def _key(tenant_id: str, code: str) -> dict:
        return {"tenant_id": tenant_id, "payment_code": code}

    async def create(
        self, actor: Principal, tenant_id: str, body: PaymentCreateRequest
    ) -> PaymentDocument:
        repo = self._repo(tenant_id, actor)
        message = f"Payment {body.payment_code} already exists"
        if await repo.find_one(self._key(tenant_id, body.payment_code)) is not None:
            raise AlreadyExistsError(message)
        try:
            doc = await self._changes.create(
                repo,
                tenant_id,
                LogKind.PAYMENT,
                body.payment_code,
                PaymentDocument(tenant_id=tenant_id, **body.model_dump(by_alias=False)),
            )
        except AlreadyExistsError as exc:
            raise AlreadyExistsError(message) from exc
        self._cache.payment_changed(tenant_id, body.payment_code)
        return doc

    async def get(self, tenant_id: str, code: str) -> PaymentDocument:
        doc = await self._cache.get_or_load(
            self._cache.payment_key(tenant_id, code),
            lambda: self._repo(tenant_id).find_one(self._key(tenant_id, code)),
        )
        if doc is None:
            raise NotFoundError(f"Payment {code} not found")
        return doc

    async def list(self, tenant_id: str, params: PageParams) -> Page[PaymentDocument]:
        return await self._repo(tenant_id).list({"tenant_id": tenant_id}, params)

    async def update(
        self, actor: Principal, tenant_id: str, code: str, body: PaymentUpdateRequest
    ) -> PaymentDocument:
        doc = await self._changes.update(
            self._repo(tenant_id, actor),
            tenant_id,
            LogKind.PAYMENT,
            code,
            self._key(tenant_id, code),
            to_bson(body.model_dump(by_alias=False)),
        )
        self._cache.payment_changed(tenant_id, code)
        if doc is None:
            raise NotFoundError(f"Payment {code} not found")
        return doc

    async def delete(self, tenant_id: str, code: str) -> None:
        deleted = await self._changes.delete(
            self._repo(tenant_id), tenant_id, LogKind.PAYMENT, code, self._key(tenant_id, code)
        )
        self._cache.payment_changed(tenant_id, code)
        if not deleted:
            raise NotFoundError(f"Payment {code} not found")
