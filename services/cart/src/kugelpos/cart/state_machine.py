"""The cart state machine (spec §4) as ONE table: (state, operation) → next state.

The code asks `transition()`; `docs/cart-state-machine.md` embeds `render_markdown_table()`
and a test checks the two agree (`python -m kugelpos.cart.state_machine` prints the table).
A pair missing from the table is refused with 400 / 300004 and the v1 message
`Invalid event: <operation> for state: <State>State` (clients match on "Invalid event").
"""

from __future__ import annotations

from enum import StrEnum

from .domain.models import CartStatus
from .errors import InvalidCartOperationError

S = CartStatus


class CartOperation(StrEnum):
    CREATE = "create"
    GET = "get"
    ADD_ITEMS = "add_items"
    CANCEL_LINE_ITEM = "cancel_line_item"
    UPDATE_QUANTITY = "update_quantity"
    UPDATE_UNIT_PRICE = "update_unit_price"
    ADD_LINE_DISCOUNTS = "add_line_discounts"
    SUBTOTAL = "subtotal"
    ADD_SUBTOTAL_DISCOUNTS = "add_subtotal_discounts"
    ADD_PAYMENTS = "add_payments"
    BILL = "bill"
    RESUME_ITEM_ENTRY = "resume_item_entry"
    CANCEL = "cancel"


Op = CartOperation

# The whole state machine. Terminal states (Completed, Cancelled) only allow `get`.
TRANSITIONS: dict[tuple[CartStatus, CartOperation], CartStatus] = {
    (S.INITIAL, Op.CREATE): S.IDLE,
    (S.IDLE, Op.GET): S.IDLE,
    (S.IDLE, Op.ADD_ITEMS): S.ENTERING_ITEM,
    (S.IDLE, Op.CANCEL): S.CANCELLED,
    (S.ENTERING_ITEM, Op.GET): S.ENTERING_ITEM,
    (S.ENTERING_ITEM, Op.ADD_ITEMS): S.ENTERING_ITEM,
    (S.ENTERING_ITEM, Op.CANCEL_LINE_ITEM): S.ENTERING_ITEM,
    (S.ENTERING_ITEM, Op.UPDATE_QUANTITY): S.ENTERING_ITEM,
    (S.ENTERING_ITEM, Op.UPDATE_UNIT_PRICE): S.ENTERING_ITEM,
    (S.ENTERING_ITEM, Op.ADD_LINE_DISCOUNTS): S.ENTERING_ITEM,
    (S.ENTERING_ITEM, Op.SUBTOTAL): S.PAYING,
    (S.ENTERING_ITEM, Op.ADD_PAYMENTS): S.ENTERING_ITEM,
    (S.ENTERING_ITEM, Op.CANCEL): S.CANCELLED,
    (S.PAYING, Op.GET): S.PAYING,
    (S.PAYING, Op.ADD_SUBTOTAL_DISCOUNTS): S.PAYING,
    (S.PAYING, Op.ADD_PAYMENTS): S.PAYING,
    (S.PAYING, Op.BILL): S.COMPLETED,
    (S.PAYING, Op.RESUME_ITEM_ENTRY): S.ENTERING_ITEM,
    (S.PAYING, Op.CANCEL): S.CANCELLED,
    (S.COMPLETED, Op.GET): S.COMPLETED,
    (S.CANCELLED, Op.GET): S.CANCELLED,
}

TERMINAL_STATES = frozenset({S.COMPLETED, S.CANCELLED})

# v1 names used in the error message (spec §3.4), kept for clients that log or match them.
LEGACY_OPERATION_NAMES: dict[CartOperation, str] = {
    Op.CREATE: "create_cart_async",
    Op.GET: "get_cart_async",
    Op.ADD_ITEMS: "add_item_to_cart_async",
    Op.CANCEL_LINE_ITEM: "cancel_line_item_from_cart_async",
    Op.UPDATE_QUANTITY: "update_line_item_quantity_in_cart_async",
    Op.UPDATE_UNIT_PRICE: "update_line_item_unit_price_in_cart_async",
    Op.ADD_LINE_DISCOUNTS: "add_discount_to_line_item_in_cart_async",
    Op.SUBTOTAL: "subtotal_async",
    Op.ADD_SUBTOTAL_DISCOUNTS: "add_discount_to_cart_async",
    Op.ADD_PAYMENTS: "add_payment_to_cart_async",
    Op.BILL: "bill_async",
    Op.RESUME_ITEM_ENTRY: "resume_item_entry_async",
    Op.CANCEL: "cancel_transaction_async",
}


def is_allowed(state: CartStatus, operation: CartOperation) -> bool:
    return (state, operation) in TRANSITIONS


def transition(state: CartStatus, operation: CartOperation) -> CartStatus:
    """The state after `operation`, or 400 / 300004 when the table does not allow it."""
    try:
        return TRANSITIONS[(state, operation)]
    except KeyError:
        raise InvalidCartOperationError(
            f"Invalid event: {LEGACY_OPERATION_NAMES[operation]} for state: {state.value}State",
            details={"state": state.value, "operation": operation.value},
        ) from None


def allowed_operations(state: CartStatus) -> list[CartOperation]:
    return [op for op in CartOperation if (state, op) in TRANSITIONS]


def render_markdown_table() -> str:
    """The table as it appears in docs/cart-state-machine.md: one row per operation, one
    column per state; a cell is the next state, `=` when unchanged, `-` when refused."""
    states = list(CartStatus)
    header = "| operation | " + " | ".join(s.value for s in states) + " |"
    rule = "|---|" + "---|" * len(states)
    rows = [header, rule]
    for op in CartOperation:
        cells = []
        for state in states:
            nxt = TRANSITIONS.get((state, op))
            cells.append("-" if nxt is None else "=" if nxt == state else f"→ {nxt.value}")
        rows.append(f"| `{op.value}` | " + " | ".join(cells) + " |")
    return "\n".join(rows) + "\n"


if __name__ == "__main__":
    print(render_markdown_table(), end="")
