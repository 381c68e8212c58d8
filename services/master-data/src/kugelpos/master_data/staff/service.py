"""Rules for staff members: hashed PINs, PIN verification with throttling."""

from __future__ import annotations

import asyncio

from kugelpos.common.auth.passwords import dummy_hash, hash_password, verify_password
from kugelpos.common.auth.principal import Principal
from kugelpos.common.db.mongo import Mongo
from kugelpos.common.errors import AlreadyExistsError
from kugelpos.common.pagination import Page, PageParams
from kugelpos.common.throttle import AttemptLimiter

from ..changes.documents import LogKind
from ..changes.log import ChangeLog
from .documents import StaffDocument
from .repository import StaffRepository


class StaffService:
    def __init__(
        self, mongo: Mongo, limiter: AttemptLimiter, changes: ChangeLog, *, bcrypt_rounds: int
    ) -> None:
        self._mongo = mongo
        self._changes = changes
        self._limiter = limiter
        self._rounds = bcrypt_rounds

    def _repo(self, tenant_id: str, actor: Principal | None = None) -> StaffRepository:
        return StaffRepository(
            self._mongo.tenant_db(tenant_id), actor=actor.subject if actor else None
        )

    async def _hash(self, pin: str) -> str:
        # bcrypt is CPU-bound by design: keep it off the event loop.
        return await asyncio.to_thread(hash_password, pin, self._rounds)

    @staticmethod
    def _key(tenant_id: str, staff_id: str) -> dict:
        return {"tenant_id": tenant_id, "id": staff_id}

    async def create(
        self, actor: Principal, tenant_id: str, staff_id: str, name: str, pin: str, roles: list[str]
    ) -> StaffDocument:
        repo = self._repo(tenant_id, actor)
        if await repo.find_one(self._key(tenant_id, staff_id)) is not None:
            raise AlreadyExistsError(f"Staff {staff_id} already exists")
        doc = StaffDocument(
            tenant_id=tenant_id, id=staff_id, name=name, pin_hash=await self._hash(pin), roles=roles
        )
        try:
            return await self._changes.create(repo, tenant_id, LogKind.STAFF, staff_id, doc)
        except AlreadyExistsError as exc:
            raise AlreadyExistsError(f"Staff {staff_id} already exists") from exc

    async def get(self, tenant_id: str, staff_id: str) -> StaffDocument:
        return await self._repo(tenant_id).get(
            self._key(tenant_id, staff_id), what=f"Staff {staff_id}"
        )

    async def list(self, tenant_id: str, params: PageParams) -> Page[StaffDocument]:
        return await self._repo(tenant_id).list({"tenant_id": tenant_id}, params)

    async def update(
        self, actor: Principal, tenant_id: str, staff_id: str, name: str, pin: str, roles: list[str]
    ) -> StaffDocument:
        repo = self._repo(tenant_id, actor)
        await self.get(tenant_id, staff_id)  # 404 before paying for bcrypt
        changes = {"name": name, "pin_hash": await self._hash(pin), "roles": roles}
        doc = await self._changes.update(
            repo, tenant_id, LogKind.STAFF, staff_id, self._key(tenant_id, staff_id), changes
        )
        if doc is None:
            return await self.get(tenant_id, staff_id)  # raises 404 (deleted meanwhile)
        await self._limiter.reset(tenant_id, staff_id)
        return doc

    async def delete(self, tenant_id: str, staff_id: str) -> None:
        repo = self._repo(tenant_id)
        key = self._key(tenant_id, staff_id)
        if not await self._changes.delete(repo, tenant_id, LogKind.STAFF, staff_id, key):
            await self.get(tenant_id, staff_id)  # raises 404

    async def verify_pin(self, tenant_id: str, staff_id: str, pin: str) -> bool:
        """True when the PIN matches; wrong PINs count towards a lockout (429)."""
        await self._limiter.check(tenant_id, staff_id)
        staff = await self.get(tenant_id, staff_id)
        hashed = staff.pin_hash or dummy_hash()
        valid = await asyncio.to_thread(verify_password, pin, hashed) and bool(staff.pin_hash)
        if valid:
            await self._limiter.reset(tenant_id, staff_id)
        else:
            await self._limiter.record_failure(tenant_id, staff_id)
        return valid
