"""Rules for promotions: end after start, category discounts need a detail, soft delete,
and the active selection by store / category / type."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from kugelpos.common.auth.principal import Principal
from kugelpos.common.clock import utcnow
from kugelpos.common.db.mongo import Mongo
from kugelpos.common.errors import AlreadyExistsError, InvalidInputError, NotFoundError
from kugelpos.common.pagination import Page, PageParams

from ..cache import MasterCache
from ..changes.documents import LogKind, Op
from ..changes.log import ChangeLog
from ..config import MasterDataSettings
from ..documents import to_bson
from .documents import PromotionDetail, PromotionDocument
from .repository import PromotionRepository
from .schemas import (
    CATEGORY_DISCOUNT,
    PromotionCreateRequest,
    PromotionDetailModel,
    PromotionUpdateRequest,
)


def _detail(body: PromotionDetailModel | None) -> PromotionDetail | None:
    if body is None:
        return None
    return PromotionDetail(**body.model_dump(by_alias=False))


def _check(kind: str, start: datetime, end: datetime, detail: Any) -> None:
    if end <= start:
        raise InvalidInputError("endDatetime must be after startDatetime")
    if kind == CATEGORY_DISCOUNT and detail is None:
        raise InvalidInputError("A category_discount promotion needs a detail")


class PromotionService:
    def __init__(
        self,
        mongo: Mongo,
        cache: MasterCache,
        settings: MasterDataSettings,
        changes: ChangeLog,
    ) -> None:
        self._mongo = mongo
        self._changes = changes
        self._cache = cache
        self._zone = ZoneInfo(settings.timezone)

    def _repo(self, tenant_id: str, actor: Principal | None = None) -> PromotionRepository:
        return PromotionRepository(
            self._mongo.tenant_db(tenant_id), actor=actor.subject if actor else None
        )

    def instant(self, moment: datetime) -> datetime:
        """Offset-less input is app-local time."""
        return moment.replace(tzinfo=self._zone) if moment.tzinfo is None else moment

    def local(self, moment: datetime) -> str:
        return moment.astimezone(self._zone).strftime("%Y-%m-%dT%H:%M:%S")

    @staticmethod
    def _live(tenant_id: str, code: str) -> dict:
        return {"tenant_id": tenant_id, "promotion_code": code, "is_deleted": False}

    async def create(
        self, actor: Principal, tenant_id: str, body: PromotionCreateRequest
    ) -> PromotionDocument:
        start, end = self.instant(body.start_datetime), self.instant(body.end_datetime)
        _check(body.promotion_type, start, end, body.detail)
        repo = self._repo(tenant_id, actor)
        message = f"Promotion {body.promotion_code} already exists"
        existing = await repo.find_one(
            {"tenant_id": tenant_id, "promotion_code": body.promotion_code}
        )
        if existing is not None:
            raise AlreadyExistsError(
                message + (" (deleted; codes are not reused)" if existing.is_deleted else "")
            )
        doc = PromotionDocument(
            tenant_id=tenant_id,
            promotion_code=body.promotion_code,
            promotion_type=body.promotion_type,
            name=body.name,
            description=body.description,
            start_datetime=start,
            end_datetime=end,
            is_active=body.is_active,
            detail=_detail(body.detail),
        )
        try:
            created = await self._changes.create(
                repo, tenant_id, LogKind.PROMOTION, body.promotion_code, doc
            )
        except AlreadyExistsError as exc:
            raise AlreadyExistsError(message) from exc
        self._cache.promotion_changed(tenant_id, body.promotion_code)
        return created

    async def get(self, tenant_id: str, code: str) -> PromotionDocument:
        return await self._repo(tenant_id).get(
            self._live(tenant_id, code), what=f"Promotion {code}"
        )

    def list_filter(
        self, tenant_id: str, promotion_type: str | None, is_active: bool | None
    ) -> dict:
        filter_: dict[str, Any] = {"tenant_id": tenant_id, "is_deleted": False}
        if promotion_type is not None:
            filter_["promotion_type"] = promotion_type
        if is_active is not None:
            filter_["is_active"] = is_active
        return filter_

    async def list(self, filter_: dict, params: PageParams) -> Page[PromotionDocument]:
        return await self._repo(filter_["tenant_id"]).list(filter_, params)

    async def active(
        self,
        tenant_id: str,
        *,
        store_code: str | None,
        category_code: str | None,
        promotion_type: str | None,
    ) -> list[PromotionDocument]:
        now = utcnow()
        filter_: dict[str, Any] = {
            "tenant_id": tenant_id,
            "is_active": True,
            "is_deleted": False,
            "start_datetime": {"$lte": now},
            "end_datetime": {"$gte": now},
        }
        if promotion_type is not None:
            filter_["promotion_type"] = promotion_type
        page = await self._repo(tenant_id).list(
            filter_, PageParams(limit=0, sort=[("promotion_code", 1)])
        )
        result = page.items
        if store_code is not None:
            result = [
                p
                for p in result
                if p.detail is not None
                and (not p.detail.target_store_codes or store_code in p.detail.target_store_codes)
            ]
        if category_code is not None:
            result = [
                p
                for p in result
                if p.promotion_type == CATEGORY_DISCOUNT
                and p.detail is not None
                and category_code in p.detail.target_category_codes
            ]
        return result

    async def update(
        self, actor: Principal, tenant_id: str, code: str, body: PromotionUpdateRequest
    ) -> PromotionDocument:
        current = await self.get(tenant_id, code)
        changes: dict[str, Any] = {}
        for name in ("name", "description", "is_active"):
            value = getattr(body, name)
            if value is not None:
                changes[name] = value
        start = self.instant(body.start_datetime) if body.start_datetime else None
        end = self.instant(body.end_datetime) if body.end_datetime else None
        if start is not None:
            changes["start_datetime"] = start
        if end is not None:
            changes["end_datetime"] = end
        if body.detail is not None:
            changes["detail"] = _detail(body.detail).model_dump()  # type: ignore[union-attr]
        _check(
            current.promotion_type,
            start or current.start_datetime,
            end or current.end_datetime,
            body.detail or current.detail,
        )
        doc = await self._changes.update(
            self._repo(tenant_id, actor),
            tenant_id,
            LogKind.PROMOTION,
            code,
            self._live(tenant_id, code),
            to_bson(changes),
        )
        if doc is None:
            raise NotFoundError(f"Promotion {code} not found")
        self._cache.promotion_changed(tenant_id, code)
        return doc

    async def delete(self, actor: Principal, tenant_id: str, code: str) -> None:
        doc = await self._changes.update(
            self._repo(tenant_id, actor),
            tenant_id,
            LogKind.PROMOTION,
            code,
            self._live(tenant_id, code),
            {"is_deleted": True},
            op=Op.DELETE,
        )
        if doc is None:
            raise NotFoundError(f"Promotion {code} not found")
        self._cache.promotion_changed(tenant_id, code)
