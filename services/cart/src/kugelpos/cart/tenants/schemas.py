"""API models of tenant setup."""

from __future__ import annotations

from typing import Annotated

from pydantic import StringConstraints

from kugelpos.common.schemas import ApiModel


class TenantCreateRequest(ApiModel):
    tenant_id: Annotated[str, StringConstraints(min_length=1, max_length=32)]


class TenantCreateResponse(ApiModel):
    tenant_id: str
