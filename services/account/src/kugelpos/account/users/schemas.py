"""API models of users (the stored document is in documents.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import Field, StringConstraints, field_validator

from kugelpos.common.auth.principal import Role
from kugelpos.common.schemas import ApiModel, TenantId

# No whitespace at the ends; control and invisible characters anywhere are refused with a code
# of their own (users/policy.py).
Username = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^\S(?s:.*\S)?$")]
Password = Annotated[str, StringConstraints(min_length=8, max_length=256)]
MASK = "*****"


class UserAccount(ApiModel):
    """Body of `/register` and `/register/user` (v1 contract)."""

    username: Username
    password: Password
    tenant_id: TenantId | None = None


class UserCreate(ApiModel):
    """Body of `POST /users`: a tenant admin creates a user with roles."""

    username: Username
    password: Password
    roles: list[Role] = Field(default_factory=lambda: [Role.USER], max_length=3)
    is_active: bool = True

    @field_validator("roles")
    @classmethod
    def _unique(cls, roles: list[Role]) -> list[Role]:
        return list(dict.fromkeys(roles))


class UserAccountInDB(ApiModel):
    """Response shape of the v1 contract. `password` and `hashedPassword` keep their keys
    for existing clients but only ever carry a mask: no hash leaves the service."""

    username: str
    password: str = MASK
    tenant_id: str
    hashed_password: str = MASK
    is_superuser: bool = False
    is_active: bool = True
    roles: list[str] = []
    created_at: datetime
    updated_at: datetime | None = None
    last_login: datetime | None = None
