"""How a user is stored in `db_account_<tenant>.user_accounts`."""

from __future__ import annotations

from datetime import datetime

from kugelpos.common.db.documents import Document


class UserDocument(Document):
    username: str
    tenant_id: str
    hashed_password: str
    is_superuser: bool = False
    is_active: bool = True
    roles: list[str] = []
    last_login: datetime | None = None


class TenantClaim(Document):
    """One row per tenant id in `db_account_commons.tenants`: its unique indexes make
    claiming a tenant id atomic, so two registrations can never share one, nor two ids that
    differ only in case (`tenant_key`; claims written before it have none)."""

    tenant_id: str
    tenant_key: str | None = None
