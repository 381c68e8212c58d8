"""Cards: `/api/v1/tenants/{tenant_id}/cards` and `…/cards/{card_no}` (+ `/ledger`,
`/block`, `/unblock`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Path, Query, status

from kugelpos.common.auth.principal import Principal, PrincipalKind
from kugelpos.common.envelope import ApiResponse, ok
from kugelpos.common.errors import InvalidInputError, PermissionDeniedError
from kugelpos.common.pagination import PageParams

from ..config import get_settings
from ..dependencies import BackOffice, BalanceReader, CardServiceDep, Issuer
from .documents import CardKind, CardStatus
from .schemas import CardResponse, IssuedCard, IssueRequest, LedgerEntryResponse

router = APIRouter(prefix="/api/v1/tenants/{tenant_id}/cards", tags=["cards"])
CardNo = Annotated[str, Path(min_length=1, max_length=32)]
MAX_LIMIT = 1000


async def card_page_params(
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 100,
) -> PageParams:
    return PageParams(limit=limit, page=page)


Params = Annotated[PageParams, Depends(card_page_params)]


def lookup_key(caller: Principal) -> str | None:
    """Whose failed lookups a wrong number or PIN counts against: a till's own, a service's
    (per the till it acts for, when it says); the back office is not asked for PINs."""
    match caller.kind:
        case PrincipalKind.TERMINAL:
            return f"terminal:{caller.terminal_id}"
        case PrincipalKind.SERVICE:
            return f"service:{caller.service or caller.subject}"
    return None


@router.post("", status_code=status.HTTP_201_CREATED, response_model=ApiResponse[list[IssuedCard]])
async def issue_cards(
    tenant_id: str, body: IssueRequest, caller: Issuer, cards: CardServiceDep
) -> ApiResponse[list[IssuedCard]]:
    """Issue `count` inactive cards; the only answer that shows whole numbers (and PINs)."""
    if caller.kind is PrincipalKind.SERVICE and (
        body.kind is not CardKind.CREDIT or body.count != 1
    ):
        raise PermissionDeniedError("A service may issue one credit card at a time")
    limit = get_settings().issue_batch_max
    if body.count > limit:
        raise InvalidInputError(f"At most {limit} cards per request")
    issued = await cards.issue(
        tenant_id, body.kind, body.count, with_pin=body.with_pin, actor=caller.subject
    )
    return ok(
        [
            IssuedCard(card_no=i.card.card_no, kind=i.card.kind, status=i.card.status, pin=i.pin)
            for i in issued
        ],
        code=201,
        message=f"{len(issued)} card(s) issued",
        operation="issue_cards",
    )


@router.get("", response_model=ApiResponse[list[CardResponse]])
async def list_cards(
    tenant_id: str,
    _: BackOffice,
    cards: CardServiceDep,
    params: Params,
    kind: CardKind | None = None,
    card_status: Annotated[CardStatus | None, Query(alias="status")] = None,
) -> ApiResponse[list[CardResponse]]:
    page = await cards.list(tenant_id, params, kind=kind, status=card_status)
    return ok(
        [CardResponse.of(c) for c in page.items],
        metadata=page.metadata(),
        message="Cards retrieved successfully",
        operation="list_cards",
    )


@router.get("/{card_no}", response_model=ApiResponse[CardResponse])
async def get_card(
    tenant_id: str,
    card_no: CardNo,
    caller: BalanceReader,
    cards: CardServiceDep,
    x_card_pin: Annotated[str | None, Header(max_length=8)] = None,
) -> ApiResponse[CardResponse]:
    """Balance and state. A till (or the cart for one) gives the card's PIN, if it has one,
    in `X-Card-Pin`; an unknown number and a wrong PIN answer alike (404 416001), and
    repeated failures make the caller wait (429)."""
    card = await cards.lookup(tenant_id, card_no, pin=x_card_pin, caller=lookup_key(caller))
    return ok(CardResponse.of(card), message="Card retrieved successfully", operation="get_card")


@router.get("/{card_no}/ledger", response_model=ApiResponse[list[LedgerEntryResponse]])
async def card_ledger(
    tenant_id: str, card_no: CardNo, _: BackOffice, cards: CardServiceDep, params: Params
) -> ApiResponse[list[LedgerEntryResponse]]:
    page = await cards.ledger(tenant_id, card_no, params)
    return ok(
        [LedgerEntryResponse.of(e) for e in page.items],
        metadata=page.metadata(),
        message="Ledger retrieved successfully",
        operation="card_ledger",
    )


@router.post("/{card_no}/block", response_model=ApiResponse[CardResponse])
async def block_card(
    tenant_id: str, card_no: CardNo, caller: BackOffice, cards: CardServiceDep
) -> ApiResponse[CardResponse]:
    card = await cards.block(tenant_id, card_no, actor=caller.subject)
    return ok(CardResponse.of(card), message="Card blocked", operation="block_card")


@router.post("/{card_no}/unblock", response_model=ApiResponse[CardResponse])
async def unblock_card(
    tenant_id: str, card_no: CardNo, caller: BackOffice, cards: CardServiceDep
) -> ApiResponse[CardResponse]:
    card = await cards.unblock(tenant_id, card_no, actor=caller.subject)
    return ok(CardResponse.of(card), message="Card unblocked", operation="unblock_card")
