"""Shared builders for the cart core tests (pure: no stack, no I/O)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from kugelpos.cart import operations as ops
from kugelpos.cart.domain.masters import ItemMaster, PaymentMaster
from kugelpos.cart.domain.models import Cart, Person
from kugelpos.cart.payments.rules import DEFAULT_RULES

# The payment masters of the sample data (master-data §A7).
PAYMENT_MASTERS = {
    "01": PaymentMaster(
        payment_code="01", description="Cash", can_deposit_over=True, can_change=True
    ),
    "11": PaymentMaster(
        payment_code="11",
        description="Cashless",
        limit_amount=Decimal(100000),
        can_refund=False,
    ),
    "12": PaymentMaster(
        payment_code="12",
        description="Others",
        limit_amount=Decimal(100000),
        can_refund=False,
    ),
}


def item(
    code: str,
    price: int | str,
    tax: str = "01",
    *,
    category: str | None = None,
    restricted: bool = False,
) -> ItemMaster:
    return ItemMaster(
        item_code=code,
        description=f"Item {code}",
        unit_price=Decimal(price),
        tax_code=tax,
        category_code=category,
        is_discount_restricted=restricted,
    )


def new_cart() -> Cart:
    return ops.create_cart(
        cart_id="cart-1",
        tenant_id="T1",
        store_code="S01",
        terminal_no=9,
        terminal_status="Opened",
        staff=Person(id="S001", name="Taro"),
    )


def cart_with(*entries: tuple[ItemMaster, int], ctx=None) -> Cart:
    return ops.add_items(new_cart(), [ops.ItemEntry(i, q) for i, q in entries], ctx)


def pay(code: str, amount: int | str, master: PaymentMaster | None = None) -> ops.TenderRequest:
    return ops.TenderRequest(DEFAULT_RULES[code], master or PAYMENT_MASTERS[code], amount)


def pct(value: int | str, detail: str | None = None) -> ops.DiscountRequest:
    return ops.DiscountRequest("DiscountPercentage", value, detail)


def amt(value: int | str, detail: str | None = None) -> ops.DiscountRequest:
    return ops.DiscountRequest("DiscountAmount", value, detail)


class Builders:
    """What the test files use, as `b.item(...)`, `b.cart_with(...)` (fixture `b`)."""

    PAYMENT_MASTERS = PAYMENT_MASTERS
    item = staticmethod(item)
    new_cart = staticmethod(new_cart)
    cart_with = staticmethod(cart_with)
    pay = staticmethod(pay)
    pct = staticmethod(pct)
    amt = staticmethod(amt)


@pytest.fixture(scope="session")
def b() -> type[Builders]:
    return Builders
