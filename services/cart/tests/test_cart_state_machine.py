"""The state machine table: spec §4 pairs, refusals with 300004, and the doc in sync."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from kugelpos.cart import operations as ops
from kugelpos.cart.domain.models import CartStatus
from kugelpos.cart.errors import InvalidCartOperationError
from kugelpos.cart.state_machine import (
    TRANSITIONS,
    CartOperation,
    allowed_operations,
    is_allowed,
    render_markdown_table,
    transition,
)

S, Op = CartStatus, CartOperation
DOC = Path(__file__).resolve().parents[3] / "docs" / "cart-state-machine.md"

# Spec §4, written out independently of the code's table.
SPEC = {
    Op.CREATE: {S.INITIAL: S.IDLE},
    Op.GET: {s: s for s in (S.IDLE, S.ENTERING_ITEM, S.PAYING, S.COMPLETED, S.CANCELLED)},
    Op.ADD_ITEMS: {S.IDLE: S.ENTERING_ITEM, S.ENTERING_ITEM: S.ENTERING_ITEM},
    Op.CANCEL_LINE_ITEM: {S.ENTERING_ITEM: S.ENTERING_ITEM},
    Op.UPDATE_QUANTITY: {S.ENTERING_ITEM: S.ENTERING_ITEM},
    Op.UPDATE_UNIT_PRICE: {S.ENTERING_ITEM: S.ENTERING_ITEM},
    Op.ADD_LINE_DISCOUNTS: {S.ENTERING_ITEM: S.ENTERING_ITEM},
    Op.SUBTOTAL: {S.ENTERING_ITEM: S.PAYING},
    Op.ADD_SUBTOTAL_DISCOUNTS: {S.PAYING: S.PAYING},
    Op.ADD_PAYMENTS: {S.ENTERING_ITEM: S.ENTERING_ITEM, S.PAYING: S.PAYING},
    Op.BILL: {S.PAYING: S.COMPLETED},
    Op.RESUME_ITEM_ENTRY: {S.PAYING: S.ENTERING_ITEM},
    Op.CANCEL: {S.IDLE: S.CANCELLED, S.ENTERING_ITEM: S.CANCELLED, S.PAYING: S.CANCELLED},
}
ALL_PAIRS = [(s, op) for s in CartStatus for op in CartOperation]


def test_table_is_exactly_the_spec():
    expected = {(s, op): nxt for op, row in SPEC.items() for s, nxt in row.items()}
    assert expected == TRANSITIONS


@pytest.mark.parametrize(("state", "op"), [p for p in ALL_PAIRS if p in TRANSITIONS])
def test_allowed_pairs_give_the_next_state(state, op):
    assert is_allowed(state, op)
    assert transition(state, op) is TRANSITIONS[(state, op)]


@pytest.mark.parametrize(("state", "op"), [p for p in ALL_PAIRS if p not in TRANSITIONS])
def test_every_other_pair_is_refused_with_300004(state, op):
    assert not is_allowed(state, op)
    with pytest.raises(InvalidCartOperationError) as err:
        transition(state, op)
    assert err.value.error_code == "300004"
    assert err.value.status_code == 400
    assert err.value.message.startswith("Invalid event: ")
    assert err.value.message.endswith(f"for state: {state.value}State")


def test_terminal_states_only_allow_get():
    for state in (S.COMPLETED, S.CANCELLED):
        assert allowed_operations(state) == [Op.GET]


def test_legacy_message_format():
    with pytest.raises(
        InvalidCartOperationError, match=r"^Invalid event: bill_async for state: EnteringItemState$"
    ):
        transition(S.ENTERING_ITEM, Op.BILL)


def test_doc_table_matches_the_code_table():
    text = DOC.read_text(encoding="utf-8")
    found = re.search(
        r"<!-- BEGIN STATE TABLE \(generated\) -->\n(.*?)<!-- END STATE TABLE -->", text, re.S
    )
    assert found, "markers missing in docs/cart-state-machine.md"
    assert found.group(1) == render_markdown_table()


def test_rendered_table_reflects_transitions():
    rows = {
        line.split("|")[1].strip(" `"): [c.strip() for c in line.split("|")[2:-1]]
        for line in render_markdown_table().splitlines()[2:]
    }
    for (state, op), nxt in TRANSITIONS.items():
        cell = rows[op.value][list(CartStatus).index(state)]
        assert cell == ("=" if nxt == state else f"→ {nxt.value}")


# --- the operations consult the table ------------------------------------------------------


def _in_state(b, state):
    cart = b.new_cart()
    if state is S.IDLE:
        return cart
    cart = ops.add_items(cart, [ops.ItemEntry(b.item("A", 100), 1)])
    if state is S.ENTERING_ITEM:
        return cart
    cart = ops.subtotal(cart)
    if state is S.PAYING:
        return cart
    if state is S.CANCELLED:
        return ops.cancel(cart)
    return ops.bill(ops.add_payments(cart, [b.pay("01", 110)]))


def _call(b, op, cart):
    calls = {
        Op.GET: lambda: ops.get_cart(cart),
        Op.ADD_ITEMS: lambda: ops.add_items(cart, [ops.ItemEntry(b.item("B", 10), 1)]),
        Op.CANCEL_LINE_ITEM: lambda: ops.cancel_line_item(cart, 1),
        Op.UPDATE_QUANTITY: lambda: ops.update_line_quantity(cart, 1, 2),
        Op.UPDATE_UNIT_PRICE: lambda: ops.update_line_unit_price(cart, 1, 90),
        Op.ADD_LINE_DISCOUNTS: lambda: ops.set_line_discounts(cart, 1, [b.pct(10)]),
        Op.SUBTOTAL: lambda: ops.subtotal(cart),
        Op.ADD_SUBTOTAL_DISCOUNTS: lambda: ops.set_subtotal_discounts(cart, [b.amt(1)]),
        Op.ADD_PAYMENTS: lambda: ops.add_payments(cart, [b.pay("01", 1)]),
        Op.BILL: lambda: (
            ops.bill(ops.add_payments(cart, [b.pay("01", 1000)]))
            if cart.balance_amount > 0 and cart.cart_status is S.PAYING
            else ops.bill(cart)
        ),
        Op.RESUME_ITEM_ENTRY: lambda: ops.resume_item_entry(cart),
        Op.CANCEL: lambda: ops.cancel(cart),
    }
    return calls[op]()


STORED_STATES = [S.IDLE, S.ENTERING_ITEM, S.PAYING, S.COMPLETED, S.CANCELLED]


@pytest.mark.parametrize("op", [op for op in CartOperation if op is not Op.CREATE])
@pytest.mark.parametrize("state", STORED_STATES)
def test_operations_follow_the_table(b, state, op):
    cart = _in_state(b, state)
    assert cart.cart_status is state
    if (state, op) in TRANSITIONS:
        result = _call(b, op, cart)
        assert result.cart_status is TRANSITIONS[(state, op)]
    else:
        with pytest.raises(InvalidCartOperationError):
            _call(b, op, cart)


def test_create_leaves_initial_for_idle(b):
    assert b.new_cart().cart_status is S.IDLE
