"""API models of tenant setup."""

from __future__ import annotations

from pydantic import AliasChoices, Field

from kugelpos.common.schemas import ApiModel


class TenantCreateRequest(ApiModel):
    tenant_id: str = Field(max_length=64, validation_alias=AliasChoices("tenantId", "tenant_id"))


class TenantCreateResponse(ApiModel):
    tenant_id: str
