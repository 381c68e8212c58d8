"""Token API models. `LoginResponse` is plain snake_case, as OAuth2 clients expect."""

from __future__ import annotations

from pydantic import BaseModel

from kugelpos.common.schemas import ApiModel


class LoginResponse(BaseModel):
    access_token: str
    token_type: str = "bearer"


class TokenClaims(ApiModel):
    sub: str
    tenant_id: str
    token_type: str
    is_superuser: bool = False
    roles: list[str] = []
    terminal_id: str | None = None
    service: str | None = None
    iat: int | None = None
    exp: int
