"""Transaction endpoints: list, get, void, return (terminal or reader credentials) and the
delivery-status acknowledgement (service token or the notify key)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query

from kugelpos.common.auth.dependencies import ensure_tenant, get_notifier
from kugelpos.common.auth.principal import Principal, PrincipalKind
from kugelpos.common.envelope import ApiResponse, ok
from kugelpos.common.errors import PermissionDeniedError
from kugelpos.common.events.publisher import (
    DeliveryStatusUpdateRequest,
    DeliveryStatusUpdateResponse,
)
from kugelpos.common.pagination import PageParams, page_params, parse_sort
from kugelpos.common.schemas import INT32_MAX, INT64_MAX
from kugelpos.common.transactions import TillSession

from ..carts.schemas import CardDetail, PaymentRequest
from ..dependencies import (
    Reader,
    RefundServiceDep,
    ReturningTerminal,
    SellingTerminal,
    TerminalIdQuery,
    TransactionServiceDep,
)
from .refunds import Approval
from .schemas import (
    IssuedCredit,
    ReturnBody,
    ReturnQuoteLine,
    ReturnQuoteRequest,
    ReturnQuoteResponse,
    ReturnRequest,
    ReturnResponse,
    SessionSummaryResponse,
    TranResponse,
)
from .service import SORTABLE, RefundRequest, TransactionQuery

router = APIRouter(
    prefix="/api/v1/tenants/{tenant_id}/stores/{store_code}/terminals/{terminal_no}/transactions",
    tags=["transactions"],
)
type StoreCode = Annotated[str, Path(max_length=64)]
type TerminalNo = Annotated[int, Path(ge=0, le=1_000_000)]
type TransactionNo = Annotated[int, Path(ge=1, le=INT64_MAX)]
type IsTerminalService = Annotated[
    bool | None, Query(description="v1 compatibility: accepted and ignored")
]
DEFAULT_SORT = [("transaction_no", -1)]


async def _params(params: Annotated[PageParams, Depends(page_params)]) -> PageParams:
    for name, _ in params.sort:
        parse_sort(name, SORTABLE)
    if params.sort:
        return params
    return PageParams(limit=params.limit, page=params.page, sort=DEFAULT_SORT)


def _may_read(principal: Principal, tenant_id: str, store_code: str) -> None:
    """Any credential of the tenant; a terminal only within its own store (returns are taken
    at any terminal of the store)."""
    ensure_tenant(principal, tenant_id)
    if principal.kind is PrincipalKind.TERMINAL and principal.terminal_id:
        parts = principal.terminal_id.split("-")
        if len(parts) < 3 or "-".join(parts[1:-1]) != store_code:
            raise PermissionDeniedError("A terminal may read only its own store's transactions")


@router.get("", response_model=ApiResponse[list[TranResponse]])
async def get_transactions_by_query(
    tenant_id: str,
    store_code: StoreCode,
    terminal_no: TerminalNo,
    principal: Reader,
    transactions: TransactionServiceDep,
    params: Annotated[PageParams, Depends(_params)],
    business_date: Annotated[str | None, Query(max_length=8)] = None,
    open_counter: Annotated[int | None, Query(ge=0, le=INT32_MAX)] = None,
    transaction_type: Annotated[list[int] | None, Query(max_length=20)] = None,
    receipt_no: Annotated[int | None, Query(ge=0, le=INT64_MAX)] = None,
    include_cancelled: bool = False,
    terminal_id: TerminalIdQuery = None,
    is_terminal_service: IsTerminalService = False,
) -> ApiResponse[list[TranResponse]]:
    _may_read(principal, tenant_id, store_code)
    query = TransactionQuery(
        business_date=business_date,
        open_counter=open_counter,
        transaction_types=transaction_type or (),
        receipt_no=receipt_no,
        include_cancelled=include_cancelled,
    )
    page, statuses, filter_ = await transactions.list(
        tenant_id, store_code, terminal_no, query, params
    )
    return ok(
        [TranResponse.of(t, statuses.get(t.transaction_no)) for t in page.items],
        message=f"Transactions of terminal {tenant_id}-{store_code}-{terminal_no}",
        operation="get_transactions_by_query",
        metadata=page.metadata(filter_),
    )


@router.get("/session-summary", response_model=ApiResponse[SessionSummaryResponse])
async def get_session_summary(
    tenant_id: str,
    store_code: StoreCode,
    terminal_no: TerminalNo,
    principal: Reader,
    transactions: TransactionServiceDep,
    business_date: Annotated[str, Query(pattern=r"^\d{8}$")],
    open_counter: Annotated[int, Query(ge=0, le=INT32_MAX)],
    terminal_id: TerminalIdQuery = None,
) -> ApiResponse[SessionSummaryResponse]:
    """Beside the v1 contract: count, last number and net cash of one till session, which the
    terminal service closes with (expected drawer = float + cash in - cash out + cash sales)."""
    _may_read(principal, tenant_id, store_code)
    summary = await transactions.session_summary(
        TillSession(tenant_id, store_code, terminal_no, business_date, open_counter)
    )
    data = SessionSummaryResponse(
        business_date=business_date,
        open_counter=open_counter,
        transaction_count=summary.transaction_count,
        last_transaction_no=summary.last_transaction_no,
        cash_sales_amount=summary.cash_sales_amount,
    )
    return ok(data, message="Session summary", operation="get_session_summary")


@router.get("/{transaction_no}", response_model=ApiResponse[TranResponse])
async def get_transaction_by_tranasction_no(
    tenant_id: str,
    store_code: StoreCode,
    terminal_no: TerminalNo,
    transaction_no: TransactionNo,
    principal: Reader,
    transactions: TransactionServiceDep,
    terminal_id: TerminalIdQuery = None,
    is_terminal_service: IsTerminalService = False,
) -> ApiResponse[TranResponse]:
    _may_read(principal, tenant_id, store_code)
    tran, status = await transactions.get(tenant_id, store_code, terminal_no, transaction_no)
    return ok(
        TranResponse.of(tran, status),
        message=f"Transaction found. transaction_no: {transaction_no}",
        operation="get_transaction_by_tranasction_no",
    )


def _refunds(body: list[PaymentRequest]) -> list[RefundRequest]:
    return [refund_request(p) for p in body]


def refund_request(p: PaymentRequest) -> RefundRequest:
    if isinstance(p.detail, CardDetail):
        return RefundRequest(p.payment_code, p.amount, None, card_no=p.detail.card_no)
    return RefundRequest(p.payment_code, p.amount, p.detail)


@router.post("/{transaction_no}/void", response_model=ApiResponse[TranResponse])
async def void_transaction_by_transaction_no(
    tenant_id: str,
    store_code: StoreCode,
    terminal_no: TerminalNo,
    transaction_no: TransactionNo,
    body: list[PaymentRequest],
    terminal: SellingTerminal,
    refunds: RefundServiceDep,
    terminal_id: TerminalIdQuery = None,
    is_terminal_service: IsTerminalService = False,
) -> ApiResponse[TranResponse]:
    if tenant_id != terminal.info.tenant_id:
        raise PermissionDeniedError("Access to another tenant is not allowed")
    tran = await refunds.void(
        terminal.info, store_code, terminal_no, transaction_no, _refunds(body)
    )
    return ok(
        TranResponse.of(tran),
        message=f"Transaction {transaction_no} voided by transaction {tran.transaction_no}",
        operation="void_transaction_by_transaction_no",
    )


@router.post("/{transaction_no}/return", response_model=ApiResponse[ReturnResponse])
async def return_transaction_by_transaction_no(
    tenant_id: str,
    store_code: StoreCode,
    terminal_no: TerminalNo,
    transaction_no: TransactionNo,
    body: ReturnBody,
    terminal: ReturningTerminal,
    refunds: RefundServiceDep,
    terminal_id: TerminalIdQuery = None,
    is_terminal_service: IsTerminalService = False,
) -> ApiResponse[ReturnResponse]:
    """v1's body (the refund payments) returns everything not returned yet; the object form
    (issue 25) returns the `lines` it names (all remaining when omitted). A refund by the
    card payment code (`21`) goes onto store credit: the card in its `detail`, or a new
    credit card, whose number `issuedCredit` shows this once (issue 26)."""
    if tenant_id != terminal.info.tenant_id:
        raise PermissionDeniedError("Access to another tenant is not allowed")
    reason_code, approval = None, None
    if isinstance(body, ReturnRequest):
        payments, lines, reason_code = body.payments, body.quantities(), body.reason_code
        if body.approval is not None:
            approval = Approval(body.approval.staff_id, body.approval.pin)
    else:
        payments, lines = body, None
    tran, issued = await refunds.return_(
        terminal.info,
        store_code,
        terminal_no,
        transaction_no,
        _refunds(payments),
        lines,
        reason_code=reason_code,
        approval=approval,
        tender_rules=isinstance(body, ReturnRequest),
    )
    answer = ReturnResponse(
        **TranResponse.of(tran).model_dump(),
        issued_credit=[
            IssuedCredit(card_no=c.card_no, amount=c.amount, is_new=c.is_new) for c in issued
        ],
    )
    return ok(
        answer,
        message=f"Transaction {transaction_no} returned by transaction {tran.transaction_no}",
        operation="return_transaction_by_transaction_no",
    )


@router.post("/{transaction_no}/return/quote", response_model=ApiResponse[ReturnQuoteResponse])
async def quote_return(
    tenant_id: str,
    store_code: StoreCode,
    terminal_no: TerminalNo,
    transaction_no: TransactionNo,
    body: ReturnQuoteRequest,
    terminal: ReturningTerminal,
    refunds: RefundServiceDep,
    terminal_id: TerminalIdQuery = None,
) -> ApiResponse[ReturnQuoteResponse]:
    """Beside v1 (issue 25): what a return of these lines would refund now; writes nothing."""
    if tenant_id != terminal.info.tenant_id:
        raise PermissionDeniedError("Access to another tenant is not allowed")
    quote = await refunds.quote(
        terminal.info,
        store_code,
        terminal_no,
        transaction_no,
        body.quantities(),
        reason_code=body.reason_code,
    )
    share = quote.share
    data = ReturnQuoteResponse(
        lines=[
            ReturnQuoteLine(line_no=line.line_no, quantity=line.quantity, amount=line.refund)
            for line in share.lines
        ],
        total_amount=share.total_amount,
        tax_amount=share.tax_amount,
        total_amount_with_tax=share.total_amount_with_tax,
        approval_required=bool(quote.approval_reasons),
        approval_reasons=list(quote.approval_reasons),
    )
    return ok(data, message="Return quote", operation="quote_return")


@router.post(
    "/{transaction_no}/delivery-status",
    response_model=ApiResponse[DeliveryStatusUpdateResponse],
)
async def notify_delivery_status(
    tenant_id: str,
    store_code: StoreCode,
    terminal_no: TerminalNo,
    transaction_no: TransactionNo,
    body: DeliveryStatusUpdateRequest,
    notifier: Annotated[Principal | None, Depends(get_notifier)],
    transactions: TransactionServiceDep,
) -> ApiResponse[DeliveryStatusUpdateResponse]:
    if notifier is not None:
        ensure_tenant(notifier, tenant_id)
    record = await transactions.acknowledge(
        tenant_id, store_code, terminal_no, body.event_id, body.service, body.status, body.message
    )
    return ok(
        DeliveryStatusUpdateResponse(
            event_id=body.event_id,
            service=body.service,
            status=body.status,
            overall_status=record.status.value,
        ),
        message="Success to update delivery status",
        operation="notify_delivery_status",
    )
