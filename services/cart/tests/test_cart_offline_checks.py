"""The offline sale checks (issue 27), pure: worked examples, and properties — every sale the
cart's own pricing produces passes, any single-yen change of a total, line, tax or payment
fails. Also where a block of offline numbers lies in the counters."""

from __future__ import annotations

import copy
from decimal import Decimal as D

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from kugelpos.cart.domain.masters import DEFAULT_TAX_MASTER, tax_master_by_code
from kugelpos.cart.domain.models import Cart, Discount, DiscountType, LineItem, Payment
from kugelpos.cart.errors import AmountLessThanDiscountError
from kugelpos.cart.offline import checks
from kugelpos.cart.offline.blocks import plan_block
from kugelpos.cart.offline.documents import OfflineBlockDocument
from kugelpos.cart.offline.numbers import gaps
from kugelpos.cart.offline.schemas import OfflineSale
from kugelpos.cart.pricing.engine import PricingContext, recalculate
from kugelpos.cart.pricing.money import RoundMethod
from kugelpos.cart.transactions.tranlog import receipt_number

MASTER = tax_master_by_code(DEFAULT_TAX_MASTER)
TAX_CODES = sorted(MASTER)


def priced(lines, discounts=(), cash_over: int = 0, method: RoundMethod | None = None) -> Cart:
    ctx = PricingContext() if method is None else PricingContext(discount_round_method=method)
    cart = recalculate(
        Cart(cart_id="p", line_items=tuple(lines), subtotal_discounts=tuple(discounts)), ctx
    )
    total = cart.total_amount_with_tax
    pay = Payment(
        payment_no=1,
        payment_code="01",
        payment_name="Cash",
        payment_amount=total,
        deposit_amount=total + cash_over,
        change_amount=D(cash_over),
    )
    return recalculate(cart.model_copy(update={"payments": (pay,)}), ctx)


def check(sale: dict) -> Cart:
    return checks.check_sale(OfflineSale.model_validate(sale), MASTER, {})


def rejected(sale: dict) -> str:
    with pytest.raises(checks.Rejection) as caught:
        check(sale)
    return caught.value.code


def line(no, price, qty, tax="01", discounts=(), **kw) -> LineItem:
    return LineItem(
        line_no=no,
        item_code=f"I{no}",
        tax_code=tax,
        unit_price=D(price),
        quantity=qty,
        discounts=tuple(discounts),
        **kw,
    )


def pct(value, seq=1) -> Discount:
    return Discount(seq_no=seq, discount_type=DiscountType.PERCENTAGE, discount_value=D(value))


def amt(value, seq=1) -> Discount:
    return Discount(seq_no=seq, discount_type=DiscountType.AMOUNT, discount_value=D(value))


# ---- worked examples -------------------------------------------------------------------------


def test_worked_example_mixed_taxes_discounts_and_change(b):
    # 2 x 125 at 10 % off per unit (13 each: 224), 1 x 300 external 10 %, 1 x 108 internal
    # 8 %, and 50 off the subtotal, paid 1,000 in cash.
    cart = priced(
        [line(1, 125, 2, "01", [pct(10)]), line(2, 300, 1, "01"), line(3, 108, 1, "02")],
        [amt(50)],
        cash_over=0,
    )
    sale = b.offline_sale(cart, offline_id="o-1", transaction_no=101, receipt_no=5001)
    assert sale["lineItems"][0]["amount"] == 224.0
    taken = check(sale)
    assert taken.total_amount_with_tax == cart.total_amount_with_tax
    assert [t.tax_amount for t in taken.taxes] == [t.tax_amount for t in cart.taxes]


def test_worked_example_with_the_published_allocations(b):
    cart = priced([line(1, 1000, 1), line(2, 500, 3, "02")], [amt(101)], cash_over=399)
    sale = b.offline_sale(
        cart, offline_id="o-2", transaction_no=1, receipt_no=1, with_allocations=True
    )
    assert check(sale).change_amount == D(399)
    broken = copy.deepcopy(sale)
    broken["lineItems"][0]["discountsAllocated"][0]["discountAmount"] += 1
    assert rejected(broken) == checks.SUBTOTAL_DISCOUNT


def test_each_broken_figure_has_its_code(b):
    cart = priced([line(1, 1000, 2, "01", [amt(100)]), line(2, 200, 1, "02")], cash_over=80)
    sale = b.offline_sale(cart, offline_id="o-3", transaction_no=1, receipt_no=1)
    check(sale)

    def changed(mutate) -> str:
        copy_ = copy.deepcopy(sale)
        mutate(copy_)
        return rejected(copy_)

    assert changed(lambda s: s["lineItems"][0].update(amount=1901)) == checks.LINE_AMOUNT
    assert changed(lambda s: s["taxes"][0].update(taxAmount=191)) == checks.TAX
    assert changed(lambda s: s["taxes"].pop()) == checks.TAX
    assert changed(lambda s: s["lineItems"][1].update(taxCode="99")) == checks.TAX
    assert changed(lambda s: s.update(totalAmountWithTax=2091)) == checks.TOTAL
    assert changed(lambda s: s.update(totalQuantity=4)) == checks.TOTAL
    assert changed(lambda s: s["payments"][0].update(paymentAmount=2089)) == checks.PAYMENT
    assert changed(lambda s: s.update(changeAmount=81)) == checks.PAYMENT
    assert changed(lambda s: s.update(depositAmount=2169)) == checks.PAYMENT


@pytest.mark.parametrize("method", list(RoundMethod))
def test_a_percentage_discount_is_its_percentage_under_any_rounding_rule(b, method):
    # 2 x 105 at 15 % a unit: 15.75, so 15 (Floor) or 16 (Round, Ceil) a unit, 30 or 32; then
    # 10 % off a subtotal of 1,180 or 1,178: 118 or 117.8 -> 117 or 118.
    cart = priced([line(1, 105, 2, "00", [pct(15)]), line(2, 1000, 1, "00")], [pct(10)], 0, method)
    sale = b.offline_sale(cart, offline_id="o-pct", transaction_no=1, receipt_no=1)
    per_unit = {RoundMethod.FLOOR: 15}.get(method, 16)
    assert sale["lineItems"][0]["discounts"][0]["discountAmount"] == 2 * per_unit
    check(sale)


def test_a_discount_that_is_not_its_percentage_is_rejected(b):
    # The totals add up (the till took 50 and 500 off), but the sale says 15 % and 10 %.
    cart = priced([line(1, 105, 2, "00", [amt(50)]), line(2, 1000, 1, "00")], [amt(500)])
    sale = b.offline_sale(cart, offline_id="o-pct2", transaction_no=1, receipt_no=1)
    check(sale)
    on_line = copy.deepcopy(sale)
    on_line["lineItems"][0]["discounts"][0].update(
        discountType="DiscountPercentage", discountValue=15
    )
    assert rejected(on_line) == checks.LINE_AMOUNT
    on_subtotal = copy.deepcopy(sale)
    on_subtotal["subtotalDiscounts"][0].update(discountType="DiscountPercentage", discountValue=10)
    assert rejected(on_subtotal) == checks.SUBTOTAL_DISCOUNT
    # 500 of a discountable 1,160 is 43.1034... %: said so, it passes (rounded up); 43 % would
    # be 498.8, 498 or 499, not 500.
    said = copy.deepcopy(on_subtotal)
    said["subtotalDiscounts"][0].update(discountValue=43)
    assert rejected(said) == checks.SUBTOTAL_DISCOUNT
    said["subtotalDiscounts"][0].update(discountValue=43.1034)
    check(said)


def test_a_line_without_tax_code_takes_the_items(b):
    cart = priced([line(1, 500, 1, "02")])
    sale = b.offline_sale(cart, offline_id="o-4", transaction_no=1, receipt_no=1)
    del sale["lineItems"][0]["taxCode"]
    assert rejected(sale) == checks.TAX  # no code sent, the item unknown
    checks.check_sale(OfflineSale.model_validate(sale), MASTER, {"I1": "02"})


def test_numbers_block_and_session_checks():
    block = OfflineBlockDocument(
        tenant_id="T1",
        store_code="S01",
        terminal_no=9,
        terminal_id="T1-S01-9",
        block_id="b1",
        transaction_no_from=11,
        transaction_no_to=20,
        receipt_no_from=500,
        receipt_no_to=509,
    )
    sale = OfflineSale.model_validate(
        {
            "offlineId": "x",
            "transactionNo": 12,
            "receiptNo": 501,
            "businessDate": "20260101",
            "openCounter": 1,
            "generateDateTime": "2026-01-01T10:00:00+09:00",
            "totalAmount": 0,
            "totalAmountWithTax": 0,
            "totalQuantity": 1,
            "depositAmount": 0,
            "lineItems": [
                {"lineNo": 1, "itemCode": "A", "unitPrice": 0, "quantity": 1, "amount": 0}
            ],
            "payments": [{"paymentNo": 1, "paymentCode": "01", "paymentAmount": 0}],
        }
    )
    assert checks.block_of(sale, [block]) is block
    outside = sale.model_copy(update={"receipt_no": 510})
    with pytest.raises(checks.Rejection) as caught:
        checks.block_of(outside, [block])
    assert caught.value.code == checks.NUMBER_OUTSIDE_BLOCK
    checks.check_unused(sale, block, {11}, {("b1", 500)})
    for used in (({12}, set()), (set(), {("b1", 501)})):
        with pytest.raises(checks.Rejection) as caught:
            checks.check_unused(sale, block, *used)
        assert caught.value.code == checks.NUMBER_USED
    checks.check_session(sale, {("20260101", 1)})
    with pytest.raises(checks.Rejection) as caught:
        checks.check_session(sale, {("20260101", 2)})
    assert caught.value.code == checks.UNKNOWN_SESSION


def test_a_card_payment_or_card_load_is_refused(b):
    cart = priced([line(1, 100, 1), line(2, 200, 1)])
    sale = OfflineSale.model_validate(
        b.offline_sale(cart, offline_id="o", transaction_no=1, receipt_no=1)
    )
    checks.check_no_card(sale, {"21"}, set())
    by_card = sale.model_copy(
        update={"payments": [sale.payments[0].model_copy(update={"payment_code": "21"})]}
    )
    marked = sale.model_copy(
        update={"line_items": [sale.line_items[0].model_copy(update={"is_stored_value": True})]}
    )
    cancelled = sale.model_copy(
        update={"line_items": [sale.line_items[0].model_copy(update={"is_cancelled": True})]}
    )
    for refused, card_items in ((by_card, set()), (sale, {"I2"}), (marked, set())):
        with pytest.raises(checks.Rejection) as caught:
            checks.check_no_card(refused, {"21"}, card_items)
        assert caught.value.code == checks.STORED_VALUE == "401113"
    checks.check_no_card(cancelled, {"21"}, {"I1"})  # a cancelled card line sold nothing


def test_price_differences_never_reject(b):
    cart = priced([line(1, 100, 1), line(2, 200, 1)])
    sale = OfflineSale.model_validate(
        b.offline_sale(cart, offline_id="o", transaction_no=1, receipt_no=1)
    )
    found = checks.price_differences(sale, {"I1": D(100), "I2": D(210)})
    assert [(d.item_code, d.sold_price, d.master_price) for d in found] == [("I2", D(200), D(210))]
    assert [d.master_price for d in checks.price_differences(sale, {"I1": D(100)})] == [None]


def test_block_plan_moves_a_wrapping_block_to_the_range_start():
    # Receipts 1..100; 95 handed out: the next 10 would be 96..100, 1..5 (wrapping), so the
    # block takes 1..10 and burns 96..100.
    plan = plan_block(200, 95, 10, 1, 100)
    assert (plan.transaction_no_from, plan.transaction_no_to) == (201, 210)
    assert (plan.receipt_no_from, plan.receipt_no_to, plan.receipts_skipped) == (1, 10, 5)
    assert plan.receipt_inc == 15
    # The next online sale continues after the block.
    assert receipt_number(95 + plan.receipt_inc + 1, 1, 100) == 11
    fits = plan_block(0, 0, 100, 1, 100)
    assert (fits.receipt_no_from, fits.receipt_no_to, fits.receipts_skipped) == (1, 100, 0)
    for size in (0, 101, 1001):
        with pytest.raises(ValueError):
            plan_block(0, 0, size, 1, 100)


@settings(max_examples=300)
@given(
    st.integers(0, 10_000),
    st.integers(0, 10_000),
    st.integers(1, 1_000),
    st.integers(1, 500),
    st.integers(0, 2_000),
)
def test_block_plan_receipts_are_contiguous_and_never_online(tseq, rseq, size, start, width):
    end = start + width
    assume(size <= width + 1)
    plan = plan_block(tseq, rseq, size, start, end)
    assert start <= plan.receipt_no_from <= plan.receipt_no_to <= end
    assert plan.receipt_no_to - plan.receipt_no_from + 1 == size
    numbers = [receipt_number(rseq + k, start, end) for k in range(1, plan.receipt_inc + 1)]
    assert numbers[plan.receipts_skipped :] == list(
        range(plan.receipt_no_from, plan.receipt_no_to + 1)
    )


def test_gaps():
    assert gaps(1, 10, [3, 4, 10]) == [(1, 2), (5, 9)]
    assert gaps(1, 3, []) == [(1, 3)]
    assert gaps(1, 3, [1, 2, 3]) == []


# ---- properties ------------------------------------------------------------------------------

prices = st.one_of(st.integers(0, 50_000).map(D), st.integers(0, 2_000).map(lambda n: D(n) / 2))


@st.composite
def carts(draw) -> Cart:
    lines = []
    for i in range(1, draw(st.integers(1, 6)) + 1):
        price, qty = draw(prices), draw(st.integers(1, 9))
        discounts = []
        if draw(st.booleans()):
            discounts.append(pct(draw(st.integers(0, 50)), 1))
        if draw(st.booleans()):
            discounts.append(amt(draw(st.integers(0, int(price * qty) // 3)), 2))
        lines.append(
            line(
                i,
                price,
                qty,
                draw(st.sampled_from(TAX_CODES)),
                discounts,
                is_cancelled=draw(st.integers(0, 5)) == 0,
                is_discount_restricted=draw(st.integers(0, 4)) == 0,
            )
        )
    subtotal = [
        pct(draw(st.integers(0, 30)), i)
        if draw(st.booleans())
        else amt(draw(st.integers(0, 500)), i)
        for i in range(1, draw(st.integers(0, 2)) + 1)
    ]
    try:
        return priced(lines, subtotal, cash_over=draw(st.integers(0, 5_000)))
    except AmountLessThanDiscountError:
        assume(False)
        raise


@settings(max_examples=200)
@given(carts(), st.booleans())
def test_any_sale_the_cart_prices_passes(b, cart, allocations):
    sale = b.offline_sale(
        cart, offline_id="p", transaction_no=1, receipt_no=1, with_allocations=allocations
    )
    taken = check(sale)
    assert taken.total_amount_with_tax == cart.total_amount_with_tax
    assert taken.taxes == cart.taxes
    assert taken.change_amount == cart.change_amount


def _targets(sale: dict) -> list[tuple[str, ...]]:
    found = [("totalAmountWithTax",), ("depositAmount",), ("changeAmount",)]
    found += [
        ("lineItems", i, "amount")
        for i, ln in enumerate(sale["lineItems"])
        if not ln["isCancelled"]
    ]
    found += [
        ("lineItems", i, "unitPrice")
        for i, ln in enumerate(sale["lineItems"])
        if not ln["isCancelled"]
    ]
    found += [("taxes", i, "taxAmount") for i in range(len(sale["taxes"]))]
    found += [("taxes", i, "targetAmount") for i in range(len(sale["taxes"]))]
    found += [("payments", i, "paymentAmount") for i in range(len(sale["payments"]))]
    found += [("payments", i, "depositAmount") for i in range(len(sale["payments"]))]
    return found


@settings(max_examples=300)
@given(carts(), st.data(), st.sampled_from([1, -1]))
def test_any_single_yen_change_fails(b, cart, data, delta):
    sale = b.offline_sale(cart, offline_id="p", transaction_no=1, receipt_no=1)
    path = data.draw(st.sampled_from(_targets(sale)))
    *parents, leaf = path
    target = sale
    for key in parents:
        target = target[key]
    assume(target[leaf] + delta >= 0)
    target[leaf] = target[leaf] + delta
    with pytest.raises(checks.Rejection):
        check(sale)


def test_the_published_log_says_offline_only_for_an_offline_sale():
    from kugelpos.cart.transactions.documents import TranlogDocument

    fields = {
        "tenant_id": "T1",
        "store_code": "S01",
        "terminal_no": 9,
        "terminal_id": "T1-S01-9",
        "transaction_no": 1,
        "transaction_type": 101,
        "receipt_no": 1,
        "generate_date_time": "2026-01-01T10:00:00+09:00",
        "source_id": "offline:T1-S01-9:o-1",
        "event_id": "e",
        "sales": {},
    }
    assert TranlogDocument.model_validate({**fields, "offline": True}).payload()["offline"] is True
    assert "offline" not in TranlogDocument.model_validate(fields).payload()  # v1's shape


@pytest.mark.parametrize("moment", ["2026-01-01T10:00:00", "20260101", "yesterday at ten"])
def test_a_sale_must_say_when_with_its_offset(moment):
    """The prices in force at the sale's time are looked up: a time without an offset (or no
    time at all) makes the sale malformed (rejected 401109 on its own, not the batch)."""
    from pydantic import ValidationError

    from kugelpos.cart.offline.schemas import OfflineSale

    sale = {
        "offlineId": "x", "transactionNo": 1, "receiptNo": 1, "businessDate": "20260101",
        "openCounter": 1, "generateDateTime": moment, "totalAmount": 0,
        "totalAmountWithTax": 0, "totalQuantity": 1, "depositAmount": 0,
        "lineItems": [{"lineNo": 1, "itemCode": "A", "unitPrice": 0, "quantity": 1, "amount": 0}],
        "payments": [{"paymentNo": 1, "paymentCode": "01", "paymentAmount": 0}],
    }  # fmt: skip
    with pytest.raises(ValidationError, match="generateDateTime"):
        OfflineSale.model_validate(sale)
    assert OfflineSale.model_validate(sale | {"generateDateTime": "2026-01-01T10:00:00Z"})
