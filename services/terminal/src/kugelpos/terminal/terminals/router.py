"""`/api/v1/terminals`: create / register, list, get, delete, description, function mode,
and API-key regeneration."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, status

from kugelpos.common.auth.dependencies import CurrentPrincipal
from kugelpos.common.auth.principal import PrincipalKind
from kugelpos.common.envelope import ApiResponse, ok
from kugelpos.common.pagination import PageParams, page_params, parse_sort

from ..access import BackOffice, Operator, ensure_terminal_reader
from ..dependencies import TerminalServiceDep
from .schemas import (
    Terminal,
    TerminalCreateRequest,
    TerminalDeleteResponse,
    TerminalUpdateRequest,
    UpdateFunctionModeRequest,
)
from .service import SORTABLE

router = APIRouter(prefix="/api/v1/terminals", tags=["terminals"])
type TerminalIdQuery = Annotated[str | None, Query(max_length=128)]


async def _terminal_params(params: Annotated[PageParams, Depends(page_params)]) -> PageParams:
    for field_name, _ in params.sort:
        parse_sort(field_name, SORTABLE)
    if not params.sort:
        return PageParams(limit=params.limit, page=params.page, sort=[("terminal_id", 1)])
    return params


async def _create(
    body: TerminalCreateRequest,
    principal: BackOffice,
    terminals: TerminalServiceDep,
    operation: str,
) -> ApiResponse[Terminal]:
    terminal, api_key = await terminals.create(principal, body)
    return ok(
        Terminal.of(terminal, api_key=api_key),
        code=201,
        message=f"Terminal Created. terminal_id: {terminal.terminal_id}",
        operation=operation,
    )


@router.post("", status_code=status.HTTP_201_CREATED, response_model=ApiResponse[Terminal])
async def create_terminal(
    body: TerminalCreateRequest, principal: BackOffice, terminals: TerminalServiceDep
) -> ApiResponse[Terminal]:
    return await _create(body, principal, terminals, "create_terminal")


@router.post("/register", status_code=status.HTTP_201_CREATED, response_model=ApiResponse[Terminal])
async def register_terminal(
    body: TerminalCreateRequest, principal: BackOffice, terminals: TerminalServiceDep
) -> ApiResponse[Terminal]:
    """The product's name for creating a terminal; the API key is shown once."""
    return await _create(body, principal, terminals, "register_terminal")


@router.get("", response_model=ApiResponse[list[Terminal]])
async def get_terminals(
    principal: CurrentPrincipal,
    terminals: TerminalServiceDep,
    params: Annotated[PageParams, Depends(_terminal_params)],
    store_code: Annotated[str | None, Query(max_length=64)] = None,
    terminal_id: TerminalIdQuery = None,
) -> ApiResponse[list[Terminal]]:
    if principal.kind is PrincipalKind.TERMINAL:
        # A terminal sees only itself.
        terminal_id = principal.terminal_id
    page, filter_ = await terminals.list(
        principal.tenant_id, params, store_code=store_code, terminal_id=terminal_id
    )
    return ok(
        [Terminal.of(t) for t in page.items],
        message=f"Terminals Retrieved. count: {len(page.items)}",
        operation="get_terminals",
        metadata=page.metadata(filter_),
    )


@router.get("/{terminal_id}", response_model=ApiResponse[Terminal])
async def get_terminal(
    terminal_id: str,
    principal: CurrentPrincipal,
    terminals: TerminalServiceDep,
) -> ApiResponse[Terminal]:
    ensure_terminal_reader(principal, terminal_id)
    terminal = await terminals.get(terminal_id)
    return ok(
        Terminal.of(terminal),
        message=f"Terminal Retrieved. terminal_id: {terminal_id}",
        operation="get_terminal",
    )


@router.delete("/{terminal_id}", response_model=ApiResponse[TerminalDeleteResponse])
async def delete_terminal(
    terminal_id: str, principal: BackOffice, terminals: TerminalServiceDep
) -> ApiResponse[TerminalDeleteResponse]:
    await terminals.delete(principal, terminal_id)
    return ok(
        TerminalDeleteResponse(terminal_id=terminal_id),
        message=f"Terminal Deleted. terminal_id: {terminal_id}",
        operation="delete_terminal",
    )


@router.post("/{terminal_id}/api-key", response_model=ApiResponse[Terminal])
async def regenerate_api_key(
    terminal_id: str, principal: BackOffice, terminals: TerminalServiceDep
) -> ApiResponse[Terminal]:
    """A new key, shown once; the previous key stops working immediately."""
    terminal, api_key = await terminals.regenerate_key(principal, terminal_id)
    return ok(
        Terminal.of(terminal, api_key=api_key),
        message=f"API key regenerated. terminal_id: {terminal_id}",
        operation="regenerate_api_key",
    )


@router.patch("/{terminal_id}/description", response_model=ApiResponse[Terminal])
async def update_terminal_description(
    terminal_id: str,
    body: TerminalUpdateRequest,
    principal: Operator,
    terminals: TerminalServiceDep,
) -> ApiResponse[Terminal]:
    terminal = await terminals.update_description(principal, terminal_id, body.description)
    return ok(
        Terminal.of(terminal),
        message=f"Terminal Description Updated. terminal_id: {terminal_id}",
        operation="update_terminal_description",
    )


@router.patch("/{terminal_id}/function_mode", response_model=ApiResponse[Terminal])
async def update_terminal_function_mode(
    terminal_id: str,
    body: UpdateFunctionModeRequest,
    principal: Operator,
    terminals: TerminalServiceDep,
) -> ApiResponse[Terminal]:
    terminal = await terminals.update_function_mode(principal, terminal_id, body.function_mode)
    return ok(
        Terminal.of(terminal),
        message=f"Terminal Function Mode Updated. terminal_id: {terminal_id}",
        operation="update_terminal_function_mode",
    )
