"""How a tenant (with its embedded stores) is stored in `db_terminal_<tenant>.info_tenant`."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, Field

from kugelpos.common.clock import utcnow
from kugelpos.common.db.documents import Document


class StoreStatus(StrEnum):
    IDLE = "Idle"
    OPENED = "Opened"
    CLOSED = "Closed"


class StoreDocument(BaseModel):
    store_code: str
    store_name: str
    status: StoreStatus = StoreStatus.IDLE
    business_date: str | None = None
    tags: list[str] | None = None
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime | None = None


class SetupStatus(StrEnum):
    OK = "ok"
    FAILED = "failed"
    SKIPPED = "skipped"


class SetupResult(BaseModel):
    service: str
    status: SetupStatus
    message: str | None = None
    at: datetime = Field(default_factory=utcnow)


class TenantDocument(Document):
    tenant_id: str
    tenant_name: str
    tags: list[str] = Field(default_factory=list)
    stores: list[StoreDocument] = Field(default_factory=list)
    setup: list[SetupResult] = Field(default_factory=list)
    setup_complete: bool = False

    def store(self, store_code: str) -> StoreDocument | None:
        return next((s for s in self.stores if s.store_code == store_code), None)
