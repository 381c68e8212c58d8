"""Rules for users: tenant bootstrap, user creation by an admin, listing."""

from __future__ import annotations

import asyncio
import secrets
import string

from pymongo.asynchronous.client_session import AsyncClientSession

from kugelpos.common.auth.passwords import hash_password
from kugelpos.common.auth.principal import Principal, Role
from kugelpos.common.db.mongo import Mongo, tenant_key, validate_tenant_id
from kugelpos.common.db.tenants import ensure_collections
from kugelpos.common.errors import AlreadyExistsError, PermissionDeniedError
from kugelpos.common.pagination import Page, PageParams

from ..config import AccountSettings
from ..errors import TenantIdCaseConflictError
from .documents import TenantClaim, UserDocument
from .policy import check_new_user
from .repository import TenantClaimRepository, UserRepository

GENERATED_TENANT_TRIES = 20
ADMIN_ROLES = (Role.ADMIN.value,)


def generate_tenant_id() -> str:
    """One uppercase letter and four digits (1000-9999), as v1 clients expect."""
    return secrets.choice(string.ascii_uppercase) + str(1000 + secrets.randbelow(9000))


class UserService:
    def __init__(self, mongo: Mongo, settings: AccountSettings) -> None:
        self._mongo = mongo
        self._settings = settings

    def users(self, tenant_id: str, actor: str | None = None) -> UserRepository:
        return UserRepository(self._mongo.tenant_db(tenant_id), actor=actor)

    async def _hash(self, password: str) -> str:
        # bcrypt is CPU-bound by design; keep it off the event loop.
        return await asyncio.to_thread(hash_password, password, self._settings.bcrypt_rounds)

    async def register_tenant_admin(self, username: str, password: str, tenant_id: str | None):
        """Claim a tenant id and create its first (super)user, atomically."""
        if not self._settings.registration_open:
            raise PermissionDeniedError("Tenant registration is closed on this deployment")
        check_new_user(username, password)
        hashed = await self._hash(password)
        if tenant_id is not None:
            validate_tenant_id(tenant_id)
            return await self._bootstrap(tenant_id, username, hashed)
        # The claim's unique index decides; a taken candidate just means another draw.
        for _ in range(GENERATED_TENANT_TRIES):
            try:
                return await self._bootstrap(generate_tenant_id(), username, hashed)
            except AlreadyExistsError:
                continue
        raise AlreadyExistsError("Could not allocate a free tenant id; retry")

    async def _taken(self, claims: TenantClaimRepository, tenant_id: str) -> None:
        """Refuse an id that exists, or exists in another case (nothing is written yet)."""
        key = tenant_key(tenant_id)
        # Claims written before `tenant_key` are found by the case-insensitive match; the
        # tenants collection holds one small document per tenant and registration is rare.
        found = await claims.find_one(
            {
                "$or": [
                    {"tenant_key": key},
                    {"tenant_id": {"$regex": f"^{tenant_id}$", "$options": "i"}},
                ]
            }
        )
        if found is None:
            return
        if found.tenant_id == tenant_id:
            raise AlreadyExistsError(f"Tenant {tenant_id} already exists")
        raise TenantIdCaseConflictError(
            f"Tenant id {tenant_id} differs only in case from the existing tenant "
            f"{found.tenant_id}; tenant ids are unique without regard to case"
        )

    async def _bootstrap(self, tenant_id: str, username: str, hashed: str) -> UserDocument:
        commons = self._mongo.commons_db()
        await ensure_collections(commons, [TenantClaimRepository])
        claims = TenantClaimRepository(commons, actor=username)
        await self._taken(claims, tenant_id)
        db = self._mongo.tenant_db(tenant_id)
        await ensure_collections(db, [UserRepository])
        users = UserRepository(db, actor=username)
        user = UserDocument(
            username=username,
            tenant_id=tenant_id,
            hashed_password=hashed,
            is_superuser=True,
            roles=list(ADMIN_ROLES),
        )

        async def work(session: AsyncClientSession) -> UserDocument:
            claim = TenantClaim(tenant_id=tenant_id, tenant_key=tenant_key(tenant_id))
            try:
                await claims.create(claim, session=session)
            except AlreadyExistsError as exc:
                raise AlreadyExistsError(f"Tenant {tenant_id} already exists") from exc
            return await users.create(user, session=session)

        try:
            return await self._mongo.in_transaction(work)
        except AlreadyExistsError:
            # A registration of the same id in another case won the race: say which.
            await self._taken(claims, tenant_id)
            raise

    async def create_user(
        self,
        actor: Principal,
        *,
        username: str,
        password: str,
        roles: list[str],
        is_active: bool = True,
    ) -> UserDocument:
        if not actor.has_any_role(Role.ADMIN):
            raise PermissionDeniedError("Only a tenant administrator can create users")
        check_new_user(username, password)
        user = UserDocument(
            username=username,
            tenant_id=actor.tenant_id,
            hashed_password=await self._hash(password),
            is_superuser=False,
            is_active=is_active,
            roles=roles,
        )
        try:
            return await self.users(actor.tenant_id, actor.username).create(user)
        except AlreadyExistsError as exc:
            raise AlreadyExistsError(f"User {username} already exists") from exc

    async def list_users(self, actor: Principal, params: PageParams) -> Page[UserDocument]:
        if not actor.has_any_role(Role.ADMIN, Role.MANAGER):
            raise PermissionDeniedError("Only a tenant administrator or manager can list users")
        return await self.users(actor.tenant_id).list({"tenant_id": actor.tenant_id}, params)

    async def ensure_active_admin(self, actor: Principal) -> None:
        """The v1 `/register/user` re-reads the caller: a disabled admin's token is refused."""
        user = await self.users(actor.tenant_id).find_one(
            {"tenant_id": actor.tenant_id, "username": actor.username}
        )
        if user is None or not user.is_active or not (user.is_superuser or "admin" in user.roles):
            raise PermissionDeniedError("You are not authorized to perform this action")
