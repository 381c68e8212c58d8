"""Password login: throttled per tenant, user and client address (growing delays, never a
lock), constant work whether or not the user exists, and a JWT carrying tenant, roles and
expiry."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import structlog

from kugelpos.common.auth.passwords import dummy_hash, verify_password
from kugelpos.common.auth.tokens import TokenCodec
from kugelpos.common.clock import utcnow
from kugelpos.common.db.mongo import TENANT_ID_PATTERN
from kugelpos.common.errors import AuthenticationError, DatabaseError
from kugelpos.common.throttle import AttemptLimiter

from ..config import AccountSettings
from ..users.service import UserService

log = structlog.get_logger(__name__)
LOGIN_FAILED = "Incorrect username, password or tenant_id"


class TokenService:
    def __init__(
        self,
        users: UserService,
        codec: TokenCodec,
        limiter: AttemptLimiter,
        settings: AccountSettings,
    ) -> None:
        self._users = users
        self._codec = codec
        self._limiter = limiter
        self._settings = settings

    async def login(self, username: str, password: str, tenant_id: str, client: str) -> str:
        """`client` is the caller's address: a flood of wrong passwords from one address makes
        that address wait, while the user logging in from elsewhere is not held up."""
        attempt = (tenant_id, username, client)
        failures = await self._limiter.check(*attempt)
        user = None
        if TENANT_ID_PATTERN.match(tenant_id):
            user = await self._users.users(tenant_id).find_one(
                {"tenant_id": tenant_id, "username": username}
            )
        hashed = user.hashed_password if user else dummy_hash()
        valid = await asyncio.to_thread(verify_password, password, hashed)
        if user is None or not valid or not user.is_active:
            await self._limiter.record_failure(*attempt)
            raise AuthenticationError(LOGIN_FAILED)
        if failures:
            await self._limiter.reset(*attempt)
        try:
            await self._users.users(tenant_id, username).update(
                {"tenant_id": tenant_id, "username": username}, {"last_login": utcnow()}
            )
        except DatabaseError:
            log.warning("last_login_not_recorded", tenant_id=tenant_id)
        return self._codec.issue_user_token(
            username=user.username,
            tenant_id=tenant_id,
            is_superuser=user.is_superuser,
            roles=user.roles,
            lifetime=timedelta(minutes=self._settings.token_expire_minutes),
        )
