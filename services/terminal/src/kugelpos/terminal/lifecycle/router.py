"""Lifecycle endpoints: v1 `/terminals/{terminal_id}/...` and the product's `/terminals/open`,
`/close`, `/cash-in-out` for the terminal that owns the credential.

Sign-in, sign-out, open and close return a fresh terminal JWT in `X-New-Token`.
"""

from __future__ import annotations

from fastapi import APIRouter, Body, Response

from kugelpos.common.envelope import ApiResponse, ok

from ..access import Operator
from ..dependencies import (
    KeyOwner,
    LifecycleServiceDep,
    OfflineSessionsDep,
    TerminalTokenServiceDep,
    owner_principal,
)
from ..terminals.documents import TerminalDocument
from ..terminals.schemas import Terminal
from .offline import OfflineCashMove, OfflineClose
from .schemas import (
    CashInOutRequest,
    CashInOutResponse,
    CashMovementRequest,
    OfflineCashMoveResult,
    OfflineSessionRequest,
    OfflineSessionResponse,
    TerminalCloseRequest,
    TerminalCloseResponse,
    TerminalOpenRequest,
    TerminalOpenResponse,
    TerminalSignInRequest,
)

router = APIRouter(prefix="/api/v1/terminals", tags=["lifecycle"])
NEW_TOKEN = "X-New-Token"


def _reissue(
    response: Response, tokens: TerminalTokenServiceDep, terminal: TerminalDocument
) -> None:
    response.headers[NEW_TOKEN] = tokens.issue(terminal)


# ---- the product's endpoints: the terminal is the credential's owner ---------------------------


@router.post("/open", response_model=ApiResponse[TerminalOpenResponse])
async def open_own_terminal(
    owner: KeyOwner,
    lifecycle: LifecycleServiceDep,
    tokens: TerminalTokenServiceDep,
    response: Response,
    body: TerminalOpenRequest | None = Body(default=None),
) -> ApiResponse[TerminalOpenResponse]:
    return await _open(owner.terminal_id, owner_principal(owner), body, lifecycle, tokens, response)


@router.post("/close", response_model=ApiResponse[TerminalCloseResponse])
async def close_own_terminal(
    owner: KeyOwner,
    lifecycle: LifecycleServiceDep,
    tokens: TerminalTokenServiceDep,
    response: Response,
    body: TerminalCloseRequest | None = Body(default=None),
) -> ApiResponse[TerminalCloseResponse]:
    return await _close(
        owner.terminal_id, owner_principal(owner), body, lifecycle, tokens, response
    )


@router.post("/cash-in-out", response_model=ApiResponse[CashInOutResponse])
async def cash_in_out(
    owner: KeyOwner, body: CashMovementRequest, lifecycle: LifecycleServiceDep
) -> ApiResponse[CashInOutResponse]:
    entry = await lifecycle.cash(
        owner_principal(owner), owner.terminal_id, body.signed(), body.description
    )
    verb = "In" if entry.amount > 0 else "Out"
    return ok(
        CashInOutResponse.of(entry),
        message=f"Terminal Cashed {verb}. terminal_id: {owner.terminal_id}, "
        f"amount: {entry.amount}, description: {entry.description}",
        operation="terminal_cash_in_out",
    )


# ---- v1: the terminal is named in the path -----------------------------------------------------


@router.post("/{terminal_id}/sign-in", response_model=ApiResponse[Terminal])
async def terminal_signin(
    terminal_id: str,
    body: TerminalSignInRequest,
    principal: Operator,
    lifecycle: LifecycleServiceDep,
    tokens: TerminalTokenServiceDep,
    response: Response,
) -> ApiResponse[Terminal]:
    terminal = await lifecycle.sign_in(principal, terminal_id, body.staff_id, body.pin)
    _reissue(response, tokens, terminal)
    return ok(
        Terminal.of(terminal),
        message=f"Terminal Signed In. terminal_id: {terminal_id} staff_id: {body.staff_id}",
        operation="terminal_signin",
    )


@router.post("/{terminal_id}/sign-out", response_model=ApiResponse[Terminal])
async def terminal_signout(
    terminal_id: str,
    principal: Operator,
    lifecycle: LifecycleServiceDep,
    tokens: TerminalTokenServiceDep,
    response: Response,
) -> ApiResponse[Terminal]:
    terminal = await lifecycle.sign_out(principal, terminal_id)
    _reissue(response, tokens, terminal)
    return ok(
        Terminal.of(terminal),
        message=f"Terminal Signed Out. terminal_id: {terminal_id}",
        operation="terminal_signout",
    )


@router.post("/{terminal_id}/open", response_model=ApiResponse[TerminalOpenResponse])
async def terminal_open(
    terminal_id: str,
    principal: Operator,
    lifecycle: LifecycleServiceDep,
    tokens: TerminalTokenServiceDep,
    response: Response,
    body: TerminalOpenRequest | None = Body(default=None),
) -> ApiResponse[TerminalOpenResponse]:
    return await _open(terminal_id, principal, body, lifecycle, tokens, response)


@router.post("/{terminal_id}/close", response_model=ApiResponse[TerminalCloseResponse])
async def terminal_close(
    terminal_id: str,
    principal: Operator,
    lifecycle: LifecycleServiceDep,
    tokens: TerminalTokenServiceDep,
    response: Response,
    body: TerminalCloseRequest | None = Body(default=None),
) -> ApiResponse[TerminalCloseResponse]:
    return await _close(terminal_id, principal, body, lifecycle, tokens, response)


@router.post("/{terminal_id}/cash-in", response_model=ApiResponse[CashInOutResponse])
async def terminal_cash_in(
    terminal_id: str, body: CashInOutRequest, principal: Operator, lifecycle: LifecycleServiceDep
) -> ApiResponse[CashInOutResponse]:
    entry = await lifecycle.cash(principal, terminal_id, body.amount, body.description)
    return ok(
        CashInOutResponse.of(entry),
        message=f"Terminal Cashed In. terminal_id: {terminal_id}, amount: {entry.amount}, "
        f"description: {entry.description}",
        operation="terminal_cash_in",
    )


@router.post("/{terminal_id}/cash-out", response_model=ApiResponse[CashInOutResponse])
async def terminal_cash_out(
    terminal_id: str, body: CashInOutRequest, principal: Operator, lifecycle: LifecycleServiceDep
) -> ApiResponse[CashInOutResponse]:
    entry = await lifecycle.cash(principal, terminal_id, -body.amount, body.description)
    return ok(
        CashInOutResponse.of(entry),
        message=f"Terminal Cashed Out. terminal_id: {terminal_id}, amount: {entry.amount}, "
        f"description: {entry.description}",
        operation="terminal_cash_out",
    )


@router.post("/{terminal_id}/offline-session", response_model=ApiResponse[OfflineSessionResponse])
async def terminal_offline_session(
    terminal_id: str,
    body: OfflineSessionRequest,
    principal: Operator,
    offline: OfflineSessionsDep,
    tokens: TerminalTokenServiceDep,
    response: Response,
) -> ApiResponse[OfflineSessionResponse]:
    """Cash moves and the close of a session the till carried on offline (docs/offline.md)."""
    result = await offline.upload(
        principal,
        terminal_id,
        body.business_date,
        body.open_counter,
        [
            OfflineCashMove(m.offline_id, m.amount, m.description, m.generate_date_time)
            for m in body.cash_moves
        ],
        None
        if body.close is None
        else OfflineClose(
            body.close.physical_amount,
            body.close.transaction_count,
            body.close.last_transaction_no,
            body.close.generate_date_time,
        ),
    )
    if result.close_log is not None:
        _reissue(response, tokens, result.terminal)
    terminal = Terminal.of(result.terminal)
    return ok(
        OfflineSessionResponse(
            terminal_id=terminal_id,
            business_date=body.business_date,
            open_counter=body.open_counter,
            status=result.terminal.status.value,
            cash_moves=[
                OfflineCashMoveResult(offline_id=i, status=o.value) for i, o in result.cash_moves
            ],
            close_status=result.close_outcome.value if result.close_outcome else None,
            close=None
            if result.close_log is None
            else TerminalCloseResponse.of(terminal, result.close_log),
        ),
        message=f"Offline session uploaded. terminal_id: {terminal_id}",
        operation="terminal_offline_session",
    )


async def _open(
    terminal_id: str,
    principal,
    body: TerminalOpenRequest | None,
    lifecycle: LifecycleServiceDep,
    tokens: TerminalTokenServiceDep,
    response: Response,
) -> ApiResponse[TerminalOpenResponse]:
    amount = body.initial_amount if body else None
    result = await lifecycle.open(principal, terminal_id, amount)
    _reissue(response, tokens, result.terminal)
    return ok(
        TerminalOpenResponse.of(Terminal.of(result.terminal), result.log),
        message=f"Terminal Opened. terminal_id: {terminal_id}",
        operation="terminal_open",
    )


async def _close(
    terminal_id: str,
    principal,
    body: TerminalCloseRequest | None,
    lifecycle: LifecycleServiceDep,
    tokens: TerminalTokenServiceDep,
    response: Response,
) -> ApiResponse[TerminalCloseResponse]:
    amount = body.physical_amount if body else None
    result = await lifecycle.close(principal, terminal_id, amount)
    _reissue(response, tokens, result.terminal)
    return ok(
        TerminalCloseResponse.of(Terminal.of(result.terminal), result.log),
        message=f"Terminal Closed. terminal_id: {terminal_id}",
        operation="terminal_close",
    )
