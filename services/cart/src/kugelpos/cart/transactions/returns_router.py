"""Blind returns (issue 25): a return without a receipt, and its quote, taken by the till
itself (`POST .../terminals/{terminal_no}/returns`, `.../returns/quote`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from kugelpos.common.envelope import ApiResponse, ok
from kugelpos.common.errors import PermissionDeniedError

from ..dependencies import BlindReturnServiceDep, SellingTerminal, TerminalIdQuery
from .blind import BlindLine, BlindQuote
from .refunds import Approval
from .router import refund_request
from .schemas import (
    BlindReturnQuoteLine,
    BlindReturnQuoteRequest,
    BlindReturnQuoteResponse,
    BlindReturnRequest,
    IssuedCredit,
    ReturnResponse,
    TranResponse,
)

router = APIRouter(
    prefix="/api/v1/tenants/{tenant_id}/stores/{store_code}/terminals/{terminal_no}/returns",
    tags=["transactions"],
)
type StoreCode = Annotated[str, Path(max_length=64)]
type TerminalNo = Annotated[int, Path(ge=0, le=1_000_000)]


def _lines(body: BlindReturnQuoteRequest) -> list[BlindLine]:
    return [BlindLine(x.item_code, x.quantity, x.unit_price or None) for x in body.lines]


@router.post("", response_model=ApiResponse[ReturnResponse])
async def blind_return(
    tenant_id: str,
    store_code: StoreCode,
    terminal_no: TerminalNo,
    body: BlindReturnRequest,
    terminal: SellingTerminal,
    blind: BlindReturnServiceDep,
    terminal_id: TerminalIdQuery = None,
) -> ApiResponse[ReturnResponse]:
    """Beside v1: a return without a receipt, at the item's current price; always approved
    by a manager; at most the tenant's BLIND_RETURN_LIMIT."""
    if tenant_id != terminal.info.tenant_id:
        raise PermissionDeniedError("Access to another tenant is not allowed")
    approval = Approval(body.approval.staff_id, body.approval.pin) if body.approval else None
    tran, issued = await blind.return_(
        terminal.info,
        store_code,
        terminal_no,
        _lines(body),
        [refund_request(p) for p in body.payments],
        reason_code=body.reason_code,
        approval=approval,
    )
    answer = ReturnResponse(
        **TranResponse.of(tran).model_dump(),
        issued_credit=[
            IssuedCredit(card_no=c.card_no, amount=c.amount, is_new=c.is_new) for c in issued
        ],
    )
    return ok(
        answer,
        message=f"Return without a receipt recorded as transaction {tran.transaction_no}",
        operation="blind_return",
    )


@router.post("/quote", response_model=ApiResponse[BlindReturnQuoteResponse])
async def quote_blind_return(
    tenant_id: str,
    store_code: StoreCode,
    terminal_no: TerminalNo,
    body: BlindReturnQuoteRequest,
    terminal: SellingTerminal,
    blind: BlindReturnServiceDep,
    terminal_id: TerminalIdQuery = None,
) -> ApiResponse[BlindReturnQuoteResponse]:
    """What a return without a receipt would refund now; writes nothing."""
    if tenant_id != terminal.info.tenant_id:
        raise PermissionDeniedError("Access to another tenant is not allowed")
    quote = await blind.quote(
        terminal.info, store_code, terminal_no, _lines(body), reason_code=body.reason_code
    )
    return ok(_quote(quote), message="Blind return quote", operation="quote_blind_return")


def _quote(quote: BlindQuote) -> BlindReturnQuoteResponse:
    cart = quote.cart
    return BlindReturnQuoteResponse(
        lines=[
            BlindReturnQuoteLine(
                item_code=line.item_code,
                quantity=line.quantity,
                unit_price=line.unit_price,
                amount=line.amount,
                tax_code=line.tax_code,
            )
            for line in cart.line_items
        ],
        total_amount=cart.total_amount,
        tax_amount=cart.tax_amount,
        total_amount_with_tax=cart.total_amount_with_tax,
        approval_required=bool(quote.approval_reasons),
        approval_reasons=list(quote.approval_reasons),
    )
