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


def offline_sale(
    cart: Cart,
    *,
    offline_id: str,
    transaction_no: int,
    receipt_no: int,
    business_date: str = "20260101",
    open_counter: int = 1,
    generate_date_time: str = "2026-01-01T10:00:00+09:00",
    with_allocations: bool = False,
) -> dict:
    """A priced cart as a till uploads it offline (issue 27): the camelCase form the cart's
    own `GET …/transactions/{no}` answers (built by that code: tranlog, then `TranResponse`),
    plus `offlineId`, `openCounter` and, per line, `taxCode` and `isDiscountRestricted` (or
    the published log's `discountsAllocated`)."""
    from kugelpos.cart.transactions import tranlog as build
    from kugelpos.cart.transactions.documents import TranlogDocument
    from kugelpos.cart.transactions.schemas import TranResponse

    tran = TranlogDocument(
        tenant_id=cart.tenant_id or "T1",
        store_code=cart.store_code or "S01",
        terminal_no=cart.terminal_no,
        terminal_id="T1-S01-9",
        transaction_no=transaction_no,
        transaction_type=101,
        receipt_no=receipt_no,
        business_date=business_date,
        open_counter=open_counter,
        generate_date_time=generate_date_time,
        source_id="x",
        event_id="x",
        sales=build.sales_info(cart, generate_date_time),
        line_items=[build.line_info(line) for line in cart.line_items],
        payments=[build.payment_info(p) for p in cart.payments],
        taxes=[build.tax_info(t) for t in cart.taxes],
        subtotal_discounts=[build.discount_info(d) for d in cart.subtotal_discounts],
        staff=build.person(cart.staff),
    )
    sale = TranResponse.of(tran).model_dump(mode="json", by_alias=True)
    for line, source in zip(sale["lineItems"], cart.line_items, strict=True):
        line["taxCode"] = source.tax_code
        line["isDiscountRestricted"] = source.is_discount_restricted
        if with_allocations:
            line["discountsAllocated"] = [
                {
                    "seqNo": d.seq_no,
                    "discountType": d.discount_type.value,
                    "discountValue": float(d.discount_value),
                    "discountAmount": float(d.discount_amount),
                }
                for d in source.discounts_allocated
            ]
    if with_allocations:
        for d, source in zip(sale["subtotalDiscounts"], cart.subtotal_discounts, strict=True):
            d["seqNo"] = source.seq_no
    sale.update(offlineId=offline_id, openCounter=open_counter)
    return sale


class Builders:
    """What the test files use, as `b.item(...)`, `b.cart_with(...)` (fixture `b`)."""

    PAYMENT_MASTERS = PAYMENT_MASTERS
    item = staticmethod(item)
    new_cart = staticmethod(new_cart)
    cart_with = staticmethod(cart_with)
    pay = staticmethod(pay)
    pct = staticmethod(pct)
    amt = staticmethod(amt)
    offline_sale = staticmethod(offline_sale)


@pytest.fixture(scope="session")
def b() -> type[Builders]:
    return Builders
