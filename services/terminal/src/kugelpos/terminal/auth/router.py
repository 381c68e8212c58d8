"""`POST /api/v1/auth/token`: a terminal JWT for an API key (the notify key is refused)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from kugelpos.common.envelope import ApiResponse, ok
from kugelpos.common.errors import AuthenticationError

from ..access import key_holder
from ..dependencies import ApiKey, TerminalServiceDep, TerminalTokenServiceDep
from .schemas import TokenResponse

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])


@router.post(
    "/token", response_model=ApiResponse[TokenResponse], dependencies=[Depends(key_holder)]
)
async def issue_terminal_token(
    terminals: TerminalServiceDep,
    tokens: TerminalTokenServiceDep,
    x_api_key: ApiKey = None,
    terminal_id: Annotated[str | None, Query(max_length=128)] = None,
) -> ApiResponse[TokenResponse]:
    if not x_api_key:
        raise AuthenticationError("API key is required")
    if terminal_id:
        await terminals.resolve_api_key(terminal_id, x_api_key)
        terminal = await terminals.get(terminal_id)
    else:
        terminal = await terminals.find_by_api_key(x_api_key)
    return ok(
        TokenResponse(access_token=tokens.issue(terminal), expires_in=tokens.expires_in),
        message=f"Token issued for terminal {terminal.terminal_id}",
        operation="issue_terminal_token",
    )
