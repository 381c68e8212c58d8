"""API models of tenants and stores (v1 contract; stored documents are in documents.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import Field, StringConstraints, field_validator

from kugelpos.common.schemas import ApiModel, TenantId

from .documents import SetupResult, StoreDocument, StoreStatus, TenantDocument

StoreCode = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_]{1,32}$")]
Name = Annotated[str, StringConstraints(min_length=1, max_length=200, strip_whitespace=True)]
Tag = Annotated[str, StringConstraints(min_length=1, max_length=64)]
Tags = Annotated[list[Tag], Field(max_length=50)]
BusinessDate = Annotated[
    str, StringConstraints(pattern=r"^\d{4}(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])$")
]
DISPLAY_FORMAT = "%Y-%m-%d %H:%M:%S"


def display(moment: datetime | None) -> str | None:
    """`YYYY-MM-DD HH:MM:SS`, always UTC (the v1 format, one zone for reads and writes)."""
    return None if moment is None else moment.strftime(DISPLAY_FORMAT)


class TenantCreateRequest(ApiModel):
    tenant_id: TenantId
    tenant_name: Name
    tags: Tags = Field(default_factory=list)


class TenantUpdateRequest(ApiModel):
    tenant_name: Name
    tags: Tags = Field(default_factory=list)


class StoreCreateRequest(ApiModel):
    store_code: StoreCode
    store_name: Name
    # Accepted for compatibility and ignored: a new store is Idle with no business date.
    status: str | None = Field(default=None, max_length=32)
    business_date: str | None = Field(default=None, max_length=8)
    tags: Tags | None = None


class StoreUpdateRequest(ApiModel):
    store_name: Name
    status: StoreStatus | None = None
    business_date: BusinessDate | None = None
    tags: Tags | None = None

    @field_validator("status", mode="before")
    @classmethod
    def _status_case(cls, value: object) -> object:
        return value.capitalize() if isinstance(value, str) else value


class Store(ApiModel):
    store_code: str
    store_name: str
    status: str | None = None
    business_date: str | None = None
    tags: list[str] | None = None
    entry_datetime: str
    last_update_datetime: str | None = None

    @classmethod
    def of(cls, store: StoreDocument) -> Store:
        return cls(
            store_code=store.store_code,
            store_name=store.store_name,
            status=store.status.value,
            business_date=store.business_date,
            tags=store.tags,
            entry_datetime=display(store.created_at) or "",
            last_update_datetime=display(store.updated_at),
        )


class ServiceSetup(ApiModel):
    """Added to `Tenant`: how tenant set-up went in each service."""

    service: str
    status: str
    message: str | None = None


class Tenant(ApiModel):
    tenant_id: str
    tenant_name: str
    tags: list[str]
    stores: list[Store]
    entry_datetime: str
    last_update_datetime: str | None = None
    setup_complete: bool = True
    setup_results: list[ServiceSetup] = Field(default_factory=list)

    @classmethod
    def of(cls, tenant: TenantDocument) -> Tenant:
        return cls(
            tenant_id=tenant.tenant_id,
            tenant_name=tenant.tenant_name,
            tags=tenant.tags,
            stores=[Store.of(s) for s in tenant.stores],
            entry_datetime=display(tenant.created_at) or "",
            last_update_datetime=display(tenant.updated_at),
            setup_complete=tenant.setup_complete,
            setup_results=[
                ServiceSetup(**r.model_dump(include={"service", "status", "message"}))
                for r in tenant.setup
            ],
        )


class TenantDeleteResponse(ApiModel):
    tenant_id: str


class StoreDeleteResponse(ApiModel):
    store_code: str


def setup_summary(results: list[SetupResult]) -> str:
    return "; ".join(
        f"{r.service}: {r.status.value}" + (f" ({r.message})" if r.message else "") for r in results
    )
