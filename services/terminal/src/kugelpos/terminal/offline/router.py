"""Offline numbers and sessions of a terminal (issue 27): `/terminals/{terminal_id}/...`."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from kugelpos.common.auth.access import ADMIN, MANAGER, OWN_TILL, SERVICE, allow
from kugelpos.common.auth.principal import Principal, PrincipalKind
from kugelpos.common.envelope import ApiResponse, ok
from kugelpos.common.offline_numbers import NumberBlock as OfflineNumbers
from kugelpos.common.offline_numbers import NumberBlockUse as OfflineNumbersUse

from ..access import Operator
from ..dependencies import TerminalServiceDep, TerminalWiringDep
from .schemas import (
    BusinessDate,
    OfflineNumbersRequest,
    Session,
)
from .service import OfflineService

router = APIRouter(prefix="/api/v1/terminals", tags=["offline"])
type SessionReader = Annotated[Principal, Depends(allow(ADMIN, MANAGER, OWN_TILL, SERVICE))]


async def get_offline_service(wiring: TerminalWiringDep) -> OfflineService:
    infra = wiring.infra
    return OfflineService(infra.mongo, infra.http, infra.auth.codec, wiring.settings)


type OfflineServiceDep = Annotated[OfflineService, Depends(get_offline_service)]


def _who(principal: Principal) -> str:
    if principal.kind is PrincipalKind.TERMINAL:
        return f"terminal:{principal.terminal_id}"
    return f"user:{principal.username}"


@router.post("/{terminal_id}/offline-numbers", response_model=ApiResponse[OfflineNumbers])
async def reserve_offline_numbers(
    terminal_id: str,
    body: OfflineNumbersRequest,
    principal: Operator,
    terminals: TerminalServiceDep,
    offline: OfflineServiceDep,
) -> ApiResponse[OfflineNumbers]:
    """A block of transaction and receipt numbers the till may use offline; online selling
    never uses them. Every call reserves a new block."""
    terminal = await terminals.get(terminal_id)
    data = await offline.reserve(terminal, body.size, _who(principal))
    return ok(
        OfflineNumbers.model_validate(data),
        message=f"Offline numbers reserved. terminal_id: {terminal_id}",
        operation="reserve_offline_numbers",
    )


@router.get("/{terminal_id}/offline-numbers", response_model=ApiResponse[list[OfflineNumbersUse]])
async def list_offline_numbers(
    terminal_id: str,
    _: Operator,
    terminals: TerminalServiceDep,
    offline: OfflineServiceDep,
) -> ApiResponse[list[OfflineNumbersUse]]:
    """The terminal's blocks, with the numbers its accepted offline sales used and the gaps."""
    terminal = await terminals.get(terminal_id)
    blocks = await offline.blocks(terminal)
    return ok(
        [OfflineNumbersUse.model_validate(b) for b in blocks],
        message=f"Offline number blocks. terminal_id: {terminal_id}",
        operation="list_offline_numbers",
    )


@router.get("/{terminal_id}/sessions", response_model=ApiResponse[list[Session]])
async def list_sessions(
    terminal_id: str,
    _: SessionReader,
    terminals: TerminalServiceDep,
    offline: OfflineServiceDep,
    business_date: Annotated[
        list[BusinessDate] | None, Query(alias="businessDate", max_length=31)
    ] = None,
) -> ApiResponse[list[Session]]:
    """The terminal's sessions (business date, open counter, opened and closed at) of the
    given business dates (repeatable), from its open/close logs."""
    terminal = await terminals.get(terminal_id)
    sessions = await offline.sessions(terminal, business_date or [])
    return ok(
        sessions,
        message=f"Sessions of terminal {terminal_id}",
        operation="list_terminal_sessions",
    )
