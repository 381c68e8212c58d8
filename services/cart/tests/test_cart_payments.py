"""Payment rules honouring the payment master's flags (spec §6, §13.3, §18.10-11)."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kugelpos.cart import operations as ops
from kugelpos.cart.domain.masters import PaymentMaster
from kugelpos.cart.errors import (
    BalanceZeroError,
    CartValidationError,
    CashChangeOverLimitError,
    CashTenderOverLimitError,
    DepositOverBalanceError,
    PaymentLimitExceededError,
    PaymentMethodInactiveError,
    RefundNotAllowedError,
)
from kugelpos.cart.payments.limits import (
    CASH_CHANGE_LIMIT,
    CASH_TENDER_LIMIT,
    CashLimits,
    cash_limits,
)
from kugelpos.cart.payments.rules import (
    CASH,
    CASHLESS,
    DEFAULT_RULES,
    OTHERS,
    STORED_VALUE,
    refund,
    tender,
)

CASH_MASTER = PaymentMaster(
    payment_code="01", description="Cash", can_deposit_over=True, can_change=True
)
CARD_MASTER = PaymentMaster(payment_code="11", description="Card", limit_amount=D(100000))


def pay(rule, master, amount, balance):
    return tender(rule=rule, master=master, amount=amount, balance=D(balance), payment_no=1)


def test_default_rules_by_code():
    assert DEFAULT_RULES == {"01": CASH, "11": CASHLESS, "12": OTHERS, "21": STORED_VALUE}


def test_cash_exact_and_under_tender():
    p = pay(CASH, CASH_MASTER, 500, 1000)
    assert (p.payment_amount, p.deposit_amount, p.change_amount) == (500, 500, 0)
    assert (p.payment_code, p.payment_name) == ("01", "Cash")


def test_cash_over_tender_gives_change():
    p = pay(CASH, CASH_MASTER, 3000, 2648)
    assert (p.payment_amount, p.deposit_amount, p.change_amount) == (2648, 3000, 352)


@pytest.mark.parametrize("rule", [CASHLESS, OTHERS])
def test_cashless_and_others_refuse_over_tender(rule):
    assert pay(rule, CARD_MASTER, 1980, 1980).payment_amount == 1980
    with pytest.raises(DepositOverBalanceError) as err:
        pay(rule, CARD_MASTER, 1981, 1980)
    assert (err.value.error_code, err.value.status_code) == ("403004", 406)


def test_cashless_never_over_tenders_even_if_the_master_would_allow_it():
    lenient = CARD_MASTER.model_copy(update={"can_deposit_over": True, "can_change": True})
    with pytest.raises(DepositOverBalanceError):
        pay(CASHLESS, lenient, 2000, 1980)


def test_master_can_forbid_over_tender_for_cash():
    strict = CASH_MASTER.model_copy(update={"can_deposit_over": False})
    with pytest.raises(DepositOverBalanceError):
        pay(CASH, strict, 3000, 2648)


def test_over_tender_without_change_keeps_the_excess():
    no_change = CASH_MASTER.model_copy(update={"can_change": False})
    p = pay(CASH, no_change, 1000, 800)
    assert (p.payment_amount, p.deposit_amount, p.change_amount) == (800, 1000, 0)


def test_limit_amount_caps_the_applied_amount():
    assert pay(CASHLESS, CARD_MASTER, 100000, 200000).payment_amount == 100000
    with pytest.raises(PaymentLimitExceededError) as err:
        pay(CASHLESS, CARD_MASTER, 100001, 200000)
    assert err.value.error_code == "403008"
    limited_cash = CASH_MASTER.model_copy(update={"limit_amount": D(1000)})
    # the tender may exceed the limit; what is applied may not
    assert pay(CASH, limited_cash, 5000, 900).payment_amount == 900
    with pytest.raises(PaymentLimitExceededError):
        pay(CASH, limited_cash, 5000, 1001)


def test_zero_limit_means_no_limit():
    assert pay(CASH, CASH_MASTER, 10**9, 10**9).payment_amount == 10**9


def test_inactive_method_is_refused():
    with pytest.raises(PaymentMethodInactiveError) as err:
        pay(CASH, CASH_MASTER.model_copy(update={"is_active": False}), 100, 100)
    assert (err.value.error_code, err.value.status_code) == ("403007", 400)


@pytest.mark.parametrize("balance", [0, -1])
def test_no_payment_when_nothing_is_due(balance):
    with pytest.raises(BalanceZeroError) as err:
        pay(CASH, CASH_MASTER, 100, balance)
    assert (err.value.error_code, err.value.status_code) == ("403001", 406)


def test_fractional_balance_can_still_be_paid():
    # v1 refused payments at balance < 1, so a 0.5 balance could neither be paid nor billed.
    p = pay(CASH, CASH_MASTER, 1, "0.5")
    assert (p.payment_amount, p.change_amount) == (D("0.5"), D("0.5"))


@pytest.mark.parametrize("amount", [0, -100, "10.5", "x"])
def test_invalid_amounts_are_400(amount):
    with pytest.raises(CartValidationError) as err:
        pay(CASH, CASH_MASTER, amount, 1000)
    assert err.value.status_code == 400


def test_refund_follows_can_refund_and_deposit_flags():
    r = refund(master=CASH_MASTER, amount=980, payment_no=2, detail="x")
    assert (r.payment_no, r.payment_amount, r.deposit_amount, r.payment_detail) == (
        2,
        980,
        980,
        "x",
    )
    card = CARD_MASTER.model_copy(update={"can_refund": True})
    assert refund(master=card, amount=1000, payment_no=1).deposit_amount == 0
    with pytest.raises(RefundNotAllowedError) as err:
        refund(
            master=CARD_MASTER.model_copy(update={"can_refund": False}), amount=1000, payment_no=1
        )
    assert err.value.error_code == "403009"
    with pytest.raises(CartValidationError):
        refund(master=CASH_MASTER, amount=-1, payment_no=1)


# --- through the operations ---------------------------------------------------------------


def test_payments_apply_in_order_against_the_running_balance(b):
    cart = ops.subtotal(b.cart_with((b.item("A", 1000), 1)))  # 1100
    cart = ops.add_payments(cart, [b.pay("11", 600), b.pay("12", 400), b.pay("01", 500)])
    assert [p.payment_amount for p in cart.payments] == [600, 400, 100]
    assert (cart.balance_amount, cart.change_amount, cart.deposit_amount) == (0, 400, 1500)


def test_a_failing_payment_applies_nothing(b):
    cart = ops.subtotal(b.cart_with((b.item("A", 1000), 1)))
    with pytest.raises(DepositOverBalanceError):
        ops.add_payments(cart, [b.pay("11", 600), b.pay("11", 600)])
    assert cart.payments == () and cart.balance_amount == 1100


def test_resume_clears_payments_and_change(b):
    # v1 never reset change_amount [quirk]
    cart = ops.subtotal(b.cart_with((b.item("A", 1000), 1)))
    cart = ops.add_payments(cart, [b.pay("01", 2000)])
    assert cart.change_amount == 900
    cart = ops.resume_item_entry(cart)
    assert cart.payments == ()
    assert (cart.change_amount, cart.deposit_amount, cart.balance_amount) == (0, 0, 1100)


def test_payments_in_entering_item_keep_the_state(b):
    cart = ops.add_payments(b.cart_with((b.item("A", 1000), 1)), [b.pay("01", 100)])
    assert cart.cart_status.value == "EnteringItem" and cart.balance_amount == 1000


# --- cash ceilings (payments/limits.py) -----------------------------------------------------

LIMITS = CashLimits(tender=D(50000), change=D(5000))


def pay_capped(rule, master, amount, balance, limits=LIMITS):
    return tender(
        rule=rule,
        master=master,
        amount=amount,
        balance=D(balance),
        payment_no=1,
        cash_limits=limits,
    )


def test_a_cash_tender_may_reach_the_ceiling_but_not_pass_it():
    p = pay_capped(CASH, CASH_MASTER, 50000, 48000)
    assert (p.payment_amount, p.deposit_amount, p.change_amount) == (48000, 50000, 2000)
    with pytest.raises(CashTenderOverLimitError) as err:
        pay_capped(CASH, CASH_MASTER, 50001, 50001)  # even exact: one tender that large
    assert (err.value.error_code, err.value.status_code) == ("403010", 400)


def test_change_may_reach_the_ceiling_but_not_pass_it():
    p = pay_capped(CASH, CASH_MASTER, 10000, 5000)
    assert p.change_amount == 5000
    with pytest.raises(CashChangeOverLimitError) as err:
        pay_capped(CASH, CASH_MASTER, 10000, 4999)  # change 5001
    assert (err.value.error_code, err.value.status_code) == ("403011", 400)


def test_an_excess_kept_without_change_is_no_change():
    keeps = CASH_MASTER.model_copy(update={"can_change": False})
    p = pay_capped(CASH, keeps, 20000, 100)
    assert (p.payment_amount, p.deposit_amount, p.change_amount) == (100, 20000, 0)


def test_a_zero_ceiling_is_none_and_other_tenders_are_not_cash():
    p = pay_capped(CASH, CASH_MASTER, 2_000_000, 1_000, CashLimits())
    assert p.change_amount == 1_999_000
    big_card = CARD_MASTER.model_copy(update={"limit_amount": D(0)})
    assert pay_capped(CASHLESS, big_card, 90000, 90000).payment_amount == 90000
    assert pay_capped(OTHERS, big_card, 90000, 90000).payment_amount == 90000
    # Without limits given (refund flows, older callers) nothing is capped.
    assert pay(CASH, CASH_MASTER, 2_000_000, 1_000).change_amount == 1_999_000


def test_a_refused_tender_in_a_list_applies_nothing(b):
    cart = ops.subtotal(b.cart_with((b.item("A", 1000), 1)))  # 1100
    with pytest.raises(CashChangeOverLimitError):
        ops.add_payments(cart, [b.pay("11", 600), b.pay("01", 6000)], cash_limits=LIMITS)
    assert cart.payments == () and cart.balance_amount == 1100
    paid = ops.add_payments(cart, [b.pay("11", 600), b.pay("01", 5500)], cash_limits=LIMITS)
    assert (paid.balance_amount, paid.change_amount, paid.deposit_amount) == (0, 5000, 6100)


DEFAULTS = CashLimits(D(1_000_000), D(100_000))
T, C = CASH_TENDER_LIMIT, CASH_CHANGE_LIMIT


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        ({}, DEFAULTS),
        ({T: None, C: None}, DEFAULTS),
        ({T: "500000", C: "20000"}, CashLimits(D(500000), D(20000))),
        ({T: '"300000"'}, CashLimits(D(300000), D(100_000))),  # stored as a JSON string
        ({T: " 1,200,000 "}, CashLimits(D(1_200_000), D(100_000))),
        ({T: "0", C: "0"}, CashLimits(D(0), D(0))),
        # Not a usable amount: the default stays (a typo must not switch a ceiling off).
        ({T: "lots", C: "-5"}, DEFAULTS),
        ({T: "NaN", C: "Infinity"}, DEFAULTS),
    ],
)
def test_ceilings_from_a_settings_snapshot(settings, expected):
    assert cash_limits(settings, DEFAULTS) == expected


@given(
    balance=st.integers(min_value=1, max_value=3_000_000),
    amount=st.integers(min_value=1, max_value=3_000_000),
    tender_limit=st.integers(min_value=0, max_value=2_000_000),
    change_limit=st.integers(min_value=0, max_value=2_000_000),
    can_change=st.booleans(),
)
def test_ceilings_refuse_exactly_the_tenders_over_them_and_change_nothing_else(
    balance, amount, tender_limit, change_limit, can_change
):
    master = CASH_MASTER.model_copy(update={"can_change": can_change})
    unlimited = pay(CASH, master, amount, balance)
    limits = CashLimits(D(tender_limit), D(change_limit))
    over_tender = 0 < tender_limit < amount
    over_change = not over_tender and 0 < change_limit < unlimited.change_amount
    try:
        capped = pay_capped(CASH, master, amount, balance, limits)
    except CashTenderOverLimitError:
        assert over_tender
    except CashChangeOverLimitError:
        assert over_change
    else:
        assert not over_tender and not over_change
        assert capped == unlimited
    # Whatever was accepted never hands over more than the ceilings allow.
    if not over_tender and not over_change:
        assert tender_limit == 0 or capped.deposit_amount <= tender_limit
        assert change_limit == 0 or capped.change_amount <= change_limit
