"""Cart operations as pure functions: state check → change → recalc → new cart.

The service layer loads the cart, resolves what needs I/O (item masters, payment masters and
plugins, promotions, the tax master), calls one of these and saves the result only if it
returns: every refusal is an exception and the stored cart stays as it was (all-or-nothing).
Numbers, tranlog and receipt texts of bill/cancel are added by the service afterwards.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from .domain.masters import DEFAULT_STAMP_DUTY_MASTER, ItemMaster, PaymentMaster, StampDutyTier
from .domain.models import (
    DEFAULT_TRANSACTION_TYPE,
    Cart,
    CartStatus,
    LineItem,
    Person,
)
from .errors import (
    BalanceGreaterThanZeroError,
    BalanceLessThanDiscountError,
    BalanceMinusError,
    DiscountRestrictedError,
    InvalidCartOperationError,
    SignInOutError,
    StoredValueLineError,
    TerminalStatusError,
    TransactionTypeNotAllowedError,
)
from .payments.limits import CashLimits
from .payments.rules import PaymentRule, tender
from .pricing.engine import PricingContext, recalculate
from .pricing.lines import (
    line_index,
    make_discount,
    resolve_unit_price,
    validate_quantity,
    validate_unit_price,
)
from .pricing.subtotal_discounts import compute_discount_amounts
from .pricing.totals import CASH_PAYMENT_CODES, compute_stamp_duty
from .state_machine import CartOperation, transition

TERMINAL_OPENED = "Opened"


@dataclass(frozen=True, slots=True)
class ItemEntry:
    """One scanned item: its master record, the quantity and an optional price override."""

    item: ItemMaster
    quantity: int
    unit_price: Decimal | None = None
    # A stored-value item: the card's masked number and the load registered for it.
    card_no: str | None = None
    card_load_id: str | None = None


@dataclass(frozen=True, slots=True)
class DiscountRequest:
    discount_type: str
    discount_value: Decimal | int | str | float
    discount_detail: str | None = None


@dataclass(frozen=True, slots=True)
class TenderRequest:
    """One requested payment with what the service resolved for its code: the plugin's rule
    and the payment master."""

    rule: PaymentRule
    master: PaymentMaster
    amount: Decimal | int | str | float
    detail: str | None = None
    # A card tender (`rule.draws_on_card`): the masked number and the hold placed on it.
    card_no: str | None = None
    hold_id: str | None = None


def _ctx(ctx: PricingContext | None) -> PricingContext:
    return ctx or PricingContext()


def _settle(
    cart: Cart,
    status: CartStatus,
    ctx: PricingContext,
    negative_balance: type[Exception] = BalanceMinusError,
) -> Cart:
    """Recalc, refuse a negative balance (paid more than the new total), set the state."""
    cart = recalculate(cart, ctx)
    if cart.balance_amount < 0:
        raise negative_balance(
            f"the balance would become {cart.balance_amount}: payments exceed the new total"
        )
    return cart.model_copy(update={"cart_status": status})


def _replace_line(cart: Cart, line: LineItem) -> Cart:
    lines = list(cart.line_items)
    lines[line.line_no - 1] = line
    return cart.model_copy(update={"line_items": tuple(lines)})


def _editable_line(cart: Cart, line_no: int) -> LineItem:
    line = cart.line_items[line_index(cart.line_items, line_no)]
    if line.is_cancelled:
        raise InvalidCartOperationError(f"line item {line_no} is cancelled")
    if line.is_stored_value:
        # Its load was registered at this price: cancel the line and add the card again.
        raise StoredValueLineError(f"line item {line_no} is a gift card: cancel it instead")
    return line


# --- lifecycle ----------------------------------------------------------------------------


def create_cart(
    *,
    cart_id: str,
    tenant_id: str,
    store_code: str,
    terminal_no: int,
    terminal_status: str,
    staff: Person | None,
    store_name: str | None = None,
    transaction_type: int | None = None,
    user: Person | None = None,
    business_date: str | None = None,
) -> Cart:
    """Initial → Idle. The terminal must be open (404001) with a staff signed in (404002).
    A cart is a sale: `transaction_type` 101 or none (401004)."""
    status = transition(CartStatus.INITIAL, CartOperation.CREATE)
    if transaction_type not in (None, DEFAULT_TRANSACTION_TYPE):
        raise TransactionTypeNotAllowedError(
            f"a cart is a sale ({DEFAULT_TRANSACTION_TYPE}); transaction type "
            f"{transaction_type} is not allowed (returns and voids have their own endpoints)"
        )
    if terminal_status != TERMINAL_OPENED:
        raise TerminalStatusError(
            f"terminal status is {terminal_status!r}, not {TERMINAL_OPENED!r}"
        )
    if staff is None:
        raise SignInOutError("no staff is signed in on the terminal")
    return Cart(
        cart_id=cart_id,
        cart_status=status,
        tenant_id=tenant_id,
        store_code=store_code,
        store_name=store_name,
        terminal_no=terminal_no,
        transaction_type=DEFAULT_TRANSACTION_TYPE,
        user=user,
        staff=staff,
        business_date=business_date,
    )


def get_cart(cart: Cart) -> Cart:
    transition(cart.cart_status, CartOperation.GET)
    return cart


# --- item entry ---------------------------------------------------------------------------


def add_items(cart: Cart, entries: Sequence[ItemEntry], ctx: PricingContext | None = None) -> Cart:
    """Append one line per entry (numbers 1..N never shift), then recalc."""
    ctx = _ctx(ctx)
    status = transition(cart.cart_status, CartOperation.ADD_ITEMS)
    lines = list(cart.line_items)
    for entry in entries:
        item = entry.item
        check_card_entry(entry)
        lines.append(
            LineItem(
                line_no=len(lines) + 1,
                item_code=item.item_code,
                item_name=item.description,
                item_name_short=item.description_short,
                category_code=item.category_code,
                tax_code=item.tax_code,
                unit_price=resolve_unit_price(entry.unit_price, item),
                quantity=validate_quantity(entry.quantity, ctx.max_quantity),
                # Money put on a card takes no discount nor promotion (nor tax: pricing.tax).
                is_discount_restricted=item.is_discount_restricted or item.is_stored_value,
                is_stored_value=item.is_stored_value,
                card_no=entry.card_no,
                card_load_id=entry.card_load_id,
            )
        )
    return _settle(cart.model_copy(update={"line_items": tuple(lines)}), status, ctx)


def check_card_entry(entry: ItemEntry) -> None:
    """A stored-value item is sold one card per line, at a price (the load) and with the
    card's number; any other item takes no card number."""
    if not entry.item.is_stored_value:
        if entry.card_no is not None:
            raise StoredValueLineError(f"item {entry.item.item_code} is not a gift card")
        return
    if entry.card_load_id is None:
        raise StoredValueLineError(f"item {entry.item.item_code} is sold with a cardNo")
    if entry.quantity != 1:
        raise StoredValueLineError("a gift card line has quantity 1 (one card per line)")
    if entry.unit_price is None or entry.unit_price <= 0:
        raise StoredValueLineError("a gift card line needs a unitPrice above 0 (the load)")


def cancel_line_item(cart: Cart, line_no: int, ctx: PricingContext | None = None) -> Cart:
    """Mark the line cancelled (it stays in the list). Cancelling it again changes nothing."""
    status = transition(cart.cart_status, CartOperation.CANCEL_LINE_ITEM)
    line = cart.line_items[line_index(cart.line_items, line_no)]
    cart = _replace_line(cart, line.model_copy(update={"is_cancelled": True}))
    return _settle(cart, status, _ctx(ctx))


def update_line_quantity(
    cart: Cart, line_no: int, quantity: int, ctx: PricingContext | None = None
) -> Cart:
    ctx = _ctx(ctx)
    status = transition(cart.cart_status, CartOperation.UPDATE_QUANTITY)
    line = _editable_line(cart, line_no)
    quantity = validate_quantity(quantity, ctx.max_quantity)
    cart = _replace_line(cart, line.model_copy(update={"quantity": quantity}))
    return _settle(cart, status, ctx)


def update_line_unit_price(
    cart: Cart,
    line_no: int,
    unit_price: Decimal | int | str | float,
    ctx: PricingContext | None = None,
) -> Cart:
    """The first change keeps the previous price in `unit_price_original`."""
    status = transition(cart.cart_status, CartOperation.UPDATE_UNIT_PRICE)
    line = _editable_line(cart, line_no)
    update: dict[str, object] = {"unit_price": validate_unit_price(unit_price)}
    if not line.is_unit_price_changed:
        update |= {"is_unit_price_changed": True, "unit_price_original": line.unit_price}
    cart = _replace_line(cart, line.model_copy(update=update))
    return _settle(cart, status, _ctx(ctx))


def set_line_discounts(
    cart: Cart, line_no: int, requests: Sequence[DiscountRequest], ctx: PricingContext | None = None
) -> Cart:
    """Replace the line's discounts (promotion ones included; the next recalc may re-add
    them). Restricted line → 402005; invalid entries → 400 / 300001; discounts above
    `unit_price * quantity` → 402002."""
    ctx = _ctx(ctx)
    status = transition(cart.cart_status, CartOperation.ADD_LINE_DISCOUNTS)
    line = _editable_line(cart, line_no)
    if line.is_discount_restricted and requests:
        raise DiscountRestrictedError(
            f"line item {line_no} ({line.item_code}) is discount restricted"
        )
    discounts = tuple(
        make_discount(
            r.discount_type,
            r.discount_value,
            seq_no=i,
            detail=r.discount_detail,
            digits=ctx.currency_digits,
        )
        for i, r in enumerate(requests, start=1)
    )
    cart = _replace_line(cart, line.model_copy(update={"discounts": discounts}))
    return _settle(cart, status, ctx)


# --- paying -------------------------------------------------------------------------------


def subtotal(cart: Cart, ctx: PricingContext | None = None) -> Cart:
    """EnteringItem → Paying."""
    status = transition(cart.cart_status, CartOperation.SUBTOTAL)
    return _settle(cart, status, _ctx(ctx))


def set_subtotal_discounts(
    cart: Cart, requests: Sequence[DiscountRequest], ctx: PricingContext | None = None
) -> Cart:
    """Replace the subtotal discounts and allocate them. Refused with 402003 when together
    they exceed the discountable amount or would push the balance below zero."""
    ctx = _ctx(ctx)
    status = transition(cart.cart_status, CartOperation.ADD_SUBTOTAL_DISCOUNTS)
    discounts = tuple(
        make_discount(
            r.discount_type,
            r.discount_value,
            seq_no=i,
            detail=r.discount_detail,
            digits=ctx.currency_digits,
        )
        for i, r in enumerate(requests, start=1)
    )
    result = _settle(
        cart.model_copy(update={"subtotal_discounts": discounts}),
        status,
        ctx,
        negative_balance=BalanceLessThanDiscountError,
    )
    # The engine caps discounts silently (lines may shrink later); here the request itself
    # must fit, so re-check it strictly against the recalculated lines.
    compute_discount_amounts(
        discounts, result.line_items, ctx.discount_round_method, ctx.currency_digits, strict=True
    )
    return result


def add_payments(
    cart: Cart,
    tenders: Sequence[TenderRequest],
    ctx: PricingContext | None = None,
    cash_limits: CashLimits | None = None,
) -> Cart:
    """Apply the tenders in order, each against the balance the previous one left; cash
    tenders are held to `cash_limits` (none if not given)."""
    ctx = _ctx(ctx)
    status = transition(cart.cart_status, CartOperation.ADD_PAYMENTS)
    cart = recalculate(cart, ctx)
    payments = list(cart.payments)
    balance = cart.balance_amount
    for request in tenders:
        payment = tender(
            rule=request.rule,
            master=request.master,
            amount=request.amount,
            balance=balance,
            payment_no=len(payments) + 1,
            detail=request.detail,
            digits=ctx.currency_digits,
            cash_limits=cash_limits,
        )
        if request.rule.draws_on_card:
            payment = payment.model_copy(
                update={"card_no": request.card_no, "hold_id": request.hold_id}
            )
        payments.append(payment)
        balance -= payment.payment_amount
    return _settle(cart.model_copy(update={"payments": tuple(payments)}), status, ctx)


def resume_item_entry(cart: Cart, ctx: PricingContext | None = None) -> Cart:
    """Paying → EnteringItem; payments (and so deposit and change) are cleared."""
    status = transition(cart.cart_status, CartOperation.RESUME_ITEM_ENTRY)
    return _settle(cart.model_copy(update={"payments": ()}), status, _ctx(ctx))


def _with_stamp_duty(cart: Cart, table: Sequence[StampDutyTier], cash_codes: Sequence[str]) -> Cart:
    duty = compute_stamp_duty(
        cart.total_amount_with_tax, cart.taxes, cart.payments, table, cash_codes
    )
    return cart.model_copy(
        update={
            "is_stamp_duty_applied": duty.is_stamp_duty_applied,
            "stamp_duty_target_amount": duty.stamp_duty_target_amount,
            "stamp_duty_amount": duty.stamp_duty_amount,
        }
    )


def bill(
    cart: Cart,
    ctx: PricingContext | None = None,
    stamp_duty_master: Sequence[StampDutyTier] = DEFAULT_STAMP_DUTY_MASTER,
    cash_codes: Sequence[str] = CASH_PAYMENT_CODES,
) -> Cart:
    """Paying → Completed when nothing is left to pay (else 406 / 403002); sets stamp duty."""
    status = transition(cart.cart_status, CartOperation.BILL)
    cart = _settle(cart, cart.cart_status, _ctx(ctx))
    if cart.balance_amount > 0:
        raise BalanceGreaterThanZeroError(f"balance {cart.balance_amount} is still due")
    return _with_stamp_duty(cart, stamp_duty_master, cash_codes).model_copy(
        update={"cart_status": status}
    )


def cancel(
    cart: Cart,
    stamp_duty_master: Sequence[StampDutyTier] = DEFAULT_STAMP_DUTY_MASTER,
    cash_codes: Sequence[str] = CASH_PAYMENT_CODES,
) -> Cart:
    """Idle / EnteringItem / Paying → Cancelled: the sale is kept as a cancelled transaction
    (stamp duty computed as for bill, spec §10.4); no balance check."""
    status = transition(cart.cart_status, CartOperation.CANCEL)
    cart = _with_stamp_duty(cart, stamp_duty_master, cash_codes)
    return cart.model_copy(update={"cart_status": status, "is_cancelled": True})
