"""`/api/v1/auth/token` response: plain snake_case, as OAuth2 clients expect."""

from __future__ import annotations

from pydantic import BaseModel


class TokenResponse(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int
