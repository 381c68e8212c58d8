"""Cart endpoints (v1 contract): parse, call the service, wrap the envelope."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Path, status

from kugelpos.common.envelope import ApiResponse, ok

from ..dependencies import CartServiceDep, SellingTerminal, Terminal, TerminalIdQuery
from .documents import CartDocument
from .schemas import (
    CartCreateRequest,
    CartCreateResponse,
    CartResponse,
    DiscountRequest,
    ItemQuantityUpdateRequest,
    ItemRequest,
    ItemUnitPriceUpdateRequest,
    PaymentRequest,
)

router = APIRouter(prefix="/api/v1/carts", tags=["carts"])
type CartId = Annotated[str, Path(min_length=1, max_length=64)]
type LineNo = Annotated[int, Path(alias="lineNo", description="1-based line number")]
Reply = ApiResponse[CartResponse]


def _reply(doc: CartDocument, message: str, operation: str) -> Reply:
    return ok(
        CartResponse.of(doc.cart),
        message=f"{message}. cart_id: {doc.cart.cart_id}",
        operation=operation,
    )


@router.post(
    "", status_code=status.HTTP_201_CREATED, response_model=ApiResponse[CartCreateResponse]
)
async def create_cart(
    terminal: SellingTerminal,
    carts: CartServiceDep,
    terminal_id: TerminalIdQuery = None,
    body: CartCreateRequest | None = Body(default=None),
) -> ApiResponse[CartCreateResponse]:
    doc = await carts.create(terminal.info, body or CartCreateRequest(), terminal.refresh)
    return ok(
        CartCreateResponse(cart_id=doc.cart.cart_id),
        code=201,
        message=f"Cart created. cart_id: {doc.cart.cart_id}",
        operation="create_cart",
    )


@router.get("/{cart_id}", response_model=Reply)
async def get_cart(
    cart_id: CartId, terminal: Terminal, carts: CartServiceDep, terminal_id: TerminalIdQuery = None
) -> Reply:
    return _reply(await carts.get(terminal.info, cart_id), "Cart found", "get_cart")


@router.post("/{cart_id}/cancel", response_model=Reply)
async def cancel_transaction(
    cart_id: CartId, terminal: Terminal, carts: CartServiceDep, terminal_id: TerminalIdQuery = None
) -> Reply:
    doc = await carts.cancel(terminal.info, cart_id)
    return _reply(doc, "Transaction cancelled", "cancel_transaction")


@router.post("/{cart_id}/lineItems", response_model=Reply)
async def add_items(
    cart_id: CartId,
    items: list[ItemRequest],
    terminal: SellingTerminal,
    carts: CartServiceDep,
    terminal_id: TerminalIdQuery = None,
) -> Reply:
    doc = await carts.add_items(terminal.info, cart_id, items)
    return _reply(doc, "Items added", "add_items")


@router.post("/{cart_id}/lineItems/{lineNo}/cancel", response_model=Reply)
async def cancel_line_item(
    cart_id: CartId,
    line_no: LineNo,
    terminal: SellingTerminal,
    carts: CartServiceDep,
    terminal_id: TerminalIdQuery = None,
) -> Reply:
    doc = await carts.cancel_line_item(terminal.info, cart_id, line_no)
    return _reply(doc, f"Line item {line_no} cancelled", "cancel_line_item")


@router.patch("/{cart_id}/lineItems/{lineNo}/unitPrice", response_model=Reply)
async def update_item_unit_price(
    cart_id: CartId,
    line_no: LineNo,
    body: ItemUnitPriceUpdateRequest,
    terminal: SellingTerminal,
    carts: CartServiceDep,
    terminal_id: TerminalIdQuery = None,
) -> Reply:
    doc = await carts.update_unit_price(terminal.info, cart_id, line_no, body.unit_price)
    return _reply(doc, f"Unit price of line item {line_no} updated", "update_item_unit_price")


@router.patch("/{cart_id}/lineItems/{lineNo}/quantity", response_model=Reply)
async def update_item_quantity(
    cart_id: CartId,
    line_no: LineNo,
    body: ItemQuantityUpdateRequest,
    terminal: SellingTerminal,
    carts: CartServiceDep,
    terminal_id: TerminalIdQuery = None,
) -> Reply:
    doc = await carts.update_quantity(terminal.info, cart_id, line_no, body.quantity)
    return _reply(doc, f"Quantity of line item {line_no} updated", "update_item_quantity")


@router.post("/{cart_id}/lineItems/{lineNo}/discounts", response_model=Reply)
async def add_discount_to_line_item(
    cart_id: CartId,
    line_no: LineNo,
    discounts: list[DiscountRequest],
    terminal: SellingTerminal,
    carts: CartServiceDep,
    terminal_id: TerminalIdQuery = None,
) -> Reply:
    doc = await carts.set_line_discounts(terminal.info, cart_id, line_no, discounts)
    return _reply(doc, f"Discounts of line item {line_no} set", "add_discount_to_line_item")


@router.post("/{cart_id}/subtotal", response_model=Reply)
async def subtotal(
    cart_id: CartId,
    terminal: SellingTerminal,
    carts: CartServiceDep,
    terminal_id: TerminalIdQuery = None,
) -> Reply:
    return _reply(await carts.subtotal(terminal.info, cart_id), "Subtotal", "subtotal")


@router.post("/{cart_id}/discounts", response_model=Reply)
async def discount_to_cart(
    cart_id: CartId,
    discounts: list[DiscountRequest],
    terminal: SellingTerminal,
    carts: CartServiceDep,
    terminal_id: TerminalIdQuery = None,
) -> Reply:
    doc = await carts.set_subtotal_discounts(terminal.info, cart_id, discounts)
    return _reply(doc, "Cart discounts set", "discount_to_cart")


@router.post("/{cart_id}/payments", response_model=Reply)
async def payments(
    cart_id: CartId,
    body: list[PaymentRequest],
    terminal: SellingTerminal,
    carts: CartServiceDep,
    terminal_id: TerminalIdQuery = None,
) -> Reply:
    doc = await carts.add_payments(terminal.info, cart_id, body)
    return _reply(doc, f"Payments added, balance {doc.cart.balance_amount}", "payments")


@router.post("/{cart_id}/bill", response_model=Reply)
async def bill(
    cart_id: CartId,
    terminal: SellingTerminal,
    carts: CartServiceDep,
    terminal_id: TerminalIdQuery = None,
) -> Reply:
    doc = await carts.bill(terminal.info, cart_id)
    return _reply(doc, f"Billed, transaction_no: {doc.cart.transaction_no}", "bill")


@router.post("/{cart_id}/resume-item-entry", response_model=Reply)
async def resume_item_entry(
    cart_id: CartId,
    terminal: SellingTerminal,
    carts: CartServiceDep,
    terminal_id: TerminalIdQuery = None,
) -> Reply:
    doc = await carts.resume_item_entry(terminal.info, cart_id)
    return _reply(doc, "Item entry resumed", "resume_item_entry")
