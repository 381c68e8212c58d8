"""`/api/v1/accounts/token` (OAuth2 password form) and `/token/valid`."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request

from kugelpos.common.auth.dependencies import TokenPrincipal
from kugelpos.common.envelope import ApiResponse, ok
from kugelpos.common.errors import InvalidInputError

from ..dependencies import TokenServiceDep
from .schemas import LoginResponse, TokenClaims

router = APIRouter(prefix="/api/v1/accounts", tags=["tokens"])


@router.post("/token", response_model=LoginResponse)
async def login_for_access_token(
    request: Request,
    tokens: TokenServiceDep,
    username: Annotated[str, Form(min_length=1, max_length=64)],
    password: Annotated[str, Form(min_length=1, max_length=256)],
    grant_type: Annotated[str | None, Form(pattern="^password$")] = None,
    scope: Annotated[str, Form(max_length=256)] = "",
    client_id: Annotated[str | None, Form(max_length=64, description="the tenant id")] = None,
    client_secret: Annotated[str | None, Form(max_length=256)] = None,
) -> LoginResponse:
    if not client_id:
        raise InvalidInputError("client_id (the tenant id) is required")
    # The address uvicorn settled on: a proxy's X-Forwarded-For counts only from the addresses
    # in FORWARDED_ALLOW_IPS, so a client cannot pick its own throttle key.
    client = request.client.host if request.client else ""
    token = await tokens.login(username, password, client_id, client)
    return LoginResponse(access_token=token)


@router.get("/token/valid", response_model=ApiResponse[TokenClaims])
async def validate_token(principal: TokenPrincipal) -> ApiResponse[TokenClaims]:
    claims = principal.claims
    data = TokenClaims(
        sub=principal.subject,
        tenant_id=principal.tenant_id,
        token_type=principal.kind.value,
        is_superuser=principal.is_superuser,
        roles=sorted(principal.roles),
        terminal_id=principal.terminal_id,
        service=principal.service,
        iat=claims.get("iat"),
        exp=claims["exp"],
    )
    return ok(data, message="Token is valid", operation="validate_token")
