"""Wiring: the services a request needs (from the process-wide objects) and who the calling
terminal is."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Query, Request

from kugelpos.common.auth.access import OWN_TILL, STORE_TILL, allow
from kugelpos.common.auth.dependencies import CurrentPrincipal
from kugelpos.common.auth.principal import Principal, PrincipalKind
from kugelpos.common.errors import PermissionDeniedError
from kugelpos.common.web.app import get_wiring

from .cache.terminals import TerminalInfo
from .carts.service import CartService
from .errors import TerminalStatusError
from .offline.intake import OfflineIntake
from .offline.numbers import OfflineNumbers
from .operations import TERMINAL_OPENED
from .transactions.blind import BlindReturnService
from .transactions.refunds import RefundService
from .transactions.service import TransactionService
from .wiring import CartWiring

type CartWiringDep = Annotated[CartWiring, Depends(get_wiring)]
type TerminalIdQuery = Annotated[
    str | None,
    Query(max_length=128, description="the calling terminal (required with X-API-KEY)"),
]


async def get_transaction_service(wiring: CartWiringDep) -> TransactionService:
    return TransactionService(
        wiring.infra.mongo,
        wiring.outbox,
        wiring.plugins,
        wiring.master_data,
        wiring.settings,
        wiring.ensured_tenants,
        metrics=wiring.infra.metrics,
    )


type TransactionServiceDep = Annotated[TransactionService, Depends(get_transaction_service)]


async def get_refund_service(
    wiring: CartWiringDep, transactions: TransactionServiceDep
) -> RefundService:
    return RefundService(
        transactions,
        wiring.master_data,
        wiring.outbox,
        wiring.settings,
        wiring.stored_value,
        wiring.card_codes,
    )


type RefundServiceDep = Annotated[RefundService, Depends(get_refund_service)]


async def get_blind_return_service(
    wiring: CartWiringDep, transactions: TransactionServiceDep, refunds: RefundServiceDep
) -> BlindReturnService:
    return BlindReturnService(transactions, refunds, wiring.master_data, wiring.settings)


type BlindReturnServiceDep = Annotated[BlindReturnService, Depends(get_blind_return_service)]


def _offline_parts(wiring: CartWiring, transactions: TransactionService) -> tuple:
    return (
        wiring.infra.mongo,
        transactions,
        wiring.master_data,
        wiring.service_caller,
        wiring.settings,
        wiring.ensured_tenants,
    )


async def get_offline_numbers(
    wiring: CartWiringDep, transactions: TransactionServiceDep
) -> OfflineNumbers:
    return OfflineNumbers(*_offline_parts(wiring, transactions))


async def get_offline_intake(
    wiring: CartWiringDep, transactions: TransactionServiceDep
) -> OfflineIntake:
    return OfflineIntake(*_offline_parts(wiring, transactions), card_codes=wiring.card_codes)


type OfflineNumbersDep = Annotated[OfflineNumbers, Depends(get_offline_numbers)]
type OfflineIntakeDep = Annotated[OfflineIntake, Depends(get_offline_intake)]


async def get_cart_service(
    wiring: CartWiringDep, transactions: TransactionServiceDep
) -> CartService:
    return CartService(
        wiring.cart_store,
        wiring.master_data,
        wiring.plugins,
        transactions,
        wiring.settings,
        wiring.stored_value,
    )


type CartServiceDep = Annotated[CartService, Depends(get_cart_service)]


@dataclass(frozen=True, slots=True)
class CallingTerminal:
    """The terminal behind the credential, and how to re-read it past the caches."""

    info: TerminalInfo
    refresh: Callable[[], Awaitable[TerminalInfo]] | None = None


# Carts and voids belong to the till itself (a cart by id: the cart service checks the owner;
# a void: the till that recorded the sale); a return may be taken at any till of the store.
own_till = allow(OWN_TILL)
store_till = allow(STORE_TILL)


async def get_calling_terminal(
    request: Request,
    wiring: CartWiringDep,
    principal: Annotated[Principal, Depends(own_till)],
    terminal_id: TerminalIdQuery = None,
) -> CallingTerminal:
    """Cart and void writes: only the till's own credential (API key or terminal JWT); a
    `terminal_id` given must be that terminal."""
    return _calling_terminal(request, wiring, principal, terminal_id)


async def get_store_terminal(
    request: Request,
    wiring: CartWiringDep,
    principal: Annotated[Principal, Depends(store_till)],
    terminal_id: TerminalIdQuery = None,
) -> CallingTerminal:
    """Returns: a till of the sale's store."""
    return _calling_terminal(request, wiring, principal, terminal_id)


def _calling_terminal(
    request: Request, wiring: CartWiring, principal: Principal, terminal_id: str | None
) -> CallingTerminal:
    if principal.kind is not PrincipalKind.TERMINAL or not principal.terminal_id:
        raise PermissionDeniedError("A terminal credential (terminal JWT or API key) is required")
    if terminal_id is not None and terminal_id != principal.terminal_id:
        raise PermissionDeniedError("terminal_id does not match the credential's terminal")
    info = TerminalInfo.from_principal(principal)
    refresh = None
    api_key = request.headers.get("x-api-key")
    if api_key and "authorization" not in request.headers:
        cache, owner = wiring.terminals, principal.terminal_id

        async def refresh_info() -> TerminalInfo:
            return TerminalInfo.from_principal(await cache.refresh(owner, api_key))

        refresh = refresh_info
    return CallingTerminal(info, refresh)


type Terminal = Annotated[CallingTerminal, Depends(get_calling_terminal)]
type StoreTerminal = Annotated[CallingTerminal, Depends(get_store_terminal)]


async def get_selling_terminal(terminal: Terminal) -> CallingTerminal:
    """Selling (a cart's items, discounts, payments, bill; voids): the till itself, open."""
    return await _open_now(terminal)


async def get_returning_terminal(terminal: StoreTerminal) -> CallingTerminal:
    """Taking a return: a till of the store, open."""
    return await _open_now(terminal)


async def _open_now(terminal: CallingTerminal) -> CallingTerminal:
    """The terminal must be open now. Its state is live (the terminal service's answer,
    dropped by a `terminal_changed` notice), re-read once past the caches before refusing."""
    if terminal.info.status != TERMINAL_OPENED and terminal.refresh is not None:
        terminal = CallingTerminal(await terminal.refresh(), terminal.refresh)
    if terminal.info.status != TERMINAL_OPENED:
        raise TerminalStatusError(
            f"terminal status is {terminal.info.status!r}, not {TERMINAL_OPENED!r}: a closed "
            "terminal does not sell"
        )
    return terminal


type SellingTerminal = Annotated[CallingTerminal, Depends(get_selling_terminal)]
type ReturningTerminal = Annotated[CallingTerminal, Depends(get_returning_terminal)]


async def get_reader(principal: CurrentPrincipal, terminal_id: TerminalIdQuery = None) -> Principal:
    """Transaction reads: any credential; a terminal's `terminal_id` must be its own."""
    if (
        principal.kind is PrincipalKind.TERMINAL
        and terminal_id is not None
        and terminal_id != principal.terminal_id
    ):
        raise PermissionDeniedError("terminal_id does not match the credential's terminal")
    return principal


type Reader = Annotated[Principal, Depends(get_reader)]
