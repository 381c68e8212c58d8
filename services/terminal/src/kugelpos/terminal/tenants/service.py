"""Tenant rules: local set-up, set-up fan-out to the other services (idempotent, retry-safe),
update and delete."""

from __future__ import annotations

from kugelpos.common.auth.principal import Principal
from kugelpos.common.clients.http import HttpClientHelper
from kugelpos.common.db.mongo import Mongo, validate_tenant_id
from kugelpos.common.db.tenants import ensure_collections
from kugelpos.common.errors import AlreadyExistsError, AppError, PermissionDeniedError
from kugelpos.common.events.outbox import OutboxRepository

from ..config import TerminalSettings
from ..errors import (
    TenantAlreadyExistsError,
    TenantIdCaseConflictError,
    TenantNotFoundError,
    TenantSetupError,
)
from ..lifecycle.repository import CashLogRepository, OpenCloseLogRepository
from ..terminals.repository import ApiKeyRepository, TerminalRepository
from .documents import SetupResult, SetupStatus, TenantDocument
from .repository import TenantRepository
from .schemas import TenantCreateRequest, TenantUpdateRequest, setup_summary

TENANT_REPOSITORIES = (
    TenantRepository,
    TerminalRepository,
    CashLogRepository,
    OpenCloseLogRepository,
)
SHARED_REPOSITORIES = (ApiKeyRepository, OutboxRepository)
_MAX_MESSAGE = 300


class TenantService:
    def __init__(self, mongo: Mongo, http: HttpClientHelper, settings: TerminalSettings) -> None:
        self._mongo = mongo
        self._http = http
        self._settings = settings

    def tenants(self, tenant_id: str, actor: str | None = None) -> TenantRepository:
        return TenantRepository(self._mongo.tenant_db(tenant_id), actor=actor)

    async def setup_local(self, tenant_id: str) -> None:
        await ensure_collections(self._mongo.tenant_db(tenant_id), TENANT_REPOSITORIES)
        await ensure_collections(self._mongo.commons_db(), SHARED_REPOSITORIES)

    async def get(self, tenant_id: str) -> TenantDocument:
        tenant = await self.tenants(tenant_id).find_one({"tenant_id": tenant_id})
        if tenant is None:
            raise TenantNotFoundError(f"Tenant {tenant_id} not found")
        return tenant

    async def create(self, actor: Principal, body: TenantCreateRequest) -> TenantDocument:
        """Create here, then set the tenant up in every configured service.

        Retrying after a partial failure re-runs only what failed. A tenant whose set-up
        completed is a duplicate (409).
        """
        tenant_id = body.tenant_id
        if tenant_id != actor.tenant_id:
            raise PermissionDeniedError("Access to another tenant is not allowed")
        validate_tenant_id(tenant_id)
        repo = self.tenants(tenant_id, actor.username)
        existing = await repo.find_one({"tenant_id": tenant_id})
        if existing is not None and existing.setup_complete:
            raise TenantAlreadyExistsError(f"Tenant {tenant_id} already exists")
        if existing is None:
            # Before anything is created: its database would collide with the other's.
            variant = await self._mongo.tenant_case_variant(tenant_id)
            if variant is not None:
                raise TenantIdCaseConflictError(
                    f"Tenant id {tenant_id} differs only in case from the existing tenant "
                    f"{variant}; tenant ids are unique without regard to case"
                )
        await self.setup_local(tenant_id)
        if existing is None:
            try:
                existing = await repo.create(
                    TenantDocument(
                        tenant_id=tenant_id, tenant_name=body.tenant_name, tags=body.tags
                    )
                )
            except AlreadyExistsError:
                existing = await self.get(tenant_id)  # a concurrent create won; carry on
        results = await self._fan_out(tenant_id, actor.token or "", existing.setup)
        complete = all(r.status is not SetupStatus.FAILED for r in results)
        updated = await repo.update(
            {"tenant_id": tenant_id},
            {
                "setup": [r.model_dump() for r in results],
                "setup_complete": complete,
            },
        )
        tenant = updated or existing
        if not complete:
            raise TenantSetupError(
                f"Tenant {tenant_id} created here, set-up incomplete: {setup_summary(results)}. "
                "Retry POST /api/v1/tenants."
            )
        return tenant

    async def _fan_out(
        self, tenant_id: str, token: str, previous: list[SetupResult]
    ) -> list[SetupResult]:
        done = {r.service for r in previous if r.status is SetupStatus.OK}
        results: list[SetupResult] = []
        for service in self._settings.setup_services:
            if service in done:
                results.append(next(r for r in previous if r.service == service))
                continue
            results.append(await self._setup_one(service, tenant_id, token))
        return results

    async def _setup_one(self, service: str, tenant_id: str, token: str) -> SetupResult:
        base = self._settings.configured_base_url(service)
        if base is None:
            env = "BASE_URL_" + service.replace("-", "_").upper()
            return SetupResult(
                service=service, status=SetupStatus.SKIPPED, message=f"{env} not configured"
            )
        try:
            response = await self._http.post(
                f"{base}/tenants",
                json={"tenantId": tenant_id},
                headers={"Authorization": f"Bearer {token}"},
            )
        except AppError as exc:
            return SetupResult(
                service=service, status=SetupStatus.FAILED, message=exc.message[:_MAX_MESSAGE]
            )
        # 409: the tenant is already set up there, which is what we want.
        if response.is_success or response.status_code == 409:
            return SetupResult(service=service, status=SetupStatus.OK)
        try:
            detail = response.json().get("message")
        except ValueError:
            detail = None
        message = f"HTTP {response.status_code}" + (f": {detail}" if detail else "")
        return SetupResult(
            service=service, status=SetupStatus.FAILED, message=message[:_MAX_MESSAGE]
        )

    async def update(
        self, actor: Principal, tenant_id: str, body: TenantUpdateRequest
    ) -> TenantDocument:
        updated = await self.tenants(tenant_id, actor.username).update(
            {"tenant_id": tenant_id}, {"tenant_name": body.tenant_name, "tags": body.tags}
        )
        if updated is None:
            raise TenantNotFoundError(f"Tenant {tenant_id} not found")
        return updated

    async def delete(self, actor: Principal, tenant_id: str) -> None:
        """Removes the tenant record only; terminals and other services' data stay."""
        if not await self.tenants(tenant_id, actor.username).delete({"tenant_id": tenant_id}):
            raise TenantNotFoundError(f"Tenant {tenant_id} not found")
