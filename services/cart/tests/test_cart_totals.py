"""Totals, balance, change and stamp duty (spec §5.5, §10.4)."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from kugelpos.cart.domain.masters import DEFAULT_STAMP_DUTY_MASTER, StampDutyTier
from kugelpos.cart.domain.models import Payment, Tax, TaxType
from kugelpos.cart.pricing.totals import compute_payment_totals, compute_stamp_duty


def pay(code, amount, deposit=None, change=0, no=1):
    return Payment(
        payment_no=no,
        payment_code=code,
        payment_amount=D(amount),
        deposit_amount=D(amount if deposit is None else deposit),
        change_amount=D(change),
    )


def tax(kind, amount):
    return Tax(
        tax_no=1,
        tax_code="x",
        tax_type=kind,
        tax_name="x",
        tax_amount=D(amount),
        target_amount=D(0),
        target_quantity=0,
    )


def test_payment_totals():
    totals = compute_payment_totals(D(1980), [pay("11", 1000), pay("01", 980, 1000, 20, 2)])
    assert (
        totals.deposit_amount,
        totals.change_amount,
        totals.paid_amount,
        totals.balance_amount,
    ) == (
        2000,
        20,
        1980,
        0,
    )
    assert compute_payment_totals(D(500), []).balance_amount == 500


def test_default_stamp_duty_table_is_the_spec_table():
    assert [(int(t.target_amount), int(t.stamp_duty_amount)) for t in DEFAULT_STAMP_DUTY_MASTER][
        -3:
    ] == [
        (2_000_000, 600),
        (1_000_000, 400),
        (50_000, 200),
    ]
    assert len(DEFAULT_STAMP_DUTY_MASTER) == 14


@pytest.mark.parametrize(
    ("with_tax", "taxes", "cash", "applied", "amount"),
    [
        (55000, [tax(TaxType.EXTERNAL, 5000)], 55000, True, 200),  # Example 6
        (54999, [tax(TaxType.EXTERNAL, 5000)], 54999, False, 0),  # 49999 without tax
        (55000, [tax(TaxType.EXTERNAL, 5000)], 49999, False, 0),  # cash part too small
        # internal taxes are deducted too (spec §10.4: all tax types)
        (54000, [tax(TaxType.INTERNAL, 4000)], 54000, True, 200),
        (53999, [tax(TaxType.INTERNAL, 4000)], 53999, False, 0),
        (1_100_000, [tax(TaxType.EXTERNAL, 100_000)], 1_100_000, True, 400),
        (1_100_000, [tax(TaxType.EXTERNAL, 100_000)], 60_000, True, 200),  # mostly cashless
        (2_000_000_000, [], 2_000_000_000, True, 200_000),
    ],
)
def test_stamp_duty(with_tax, taxes, cash, applied, amount):
    payments = [pay("01", cash)]
    if cash < with_tax:
        payments.append(pay("11", with_tax - cash, no=2))
    duty = compute_stamp_duty(D(with_tax), taxes, payments, DEFAULT_STAMP_DUTY_MASTER)
    assert (duty.is_stamp_duty_applied, duty.stamp_duty_amount) == (applied, amount)
    assert duty.stamp_duty_target_amount == (cash if applied else 0)


def test_stamp_duty_table_order_does_not_matter_and_cash_codes_are_a_parameter():
    table = list(reversed(DEFAULT_STAMP_DUTY_MASTER))
    duty = compute_stamp_duty(D(3_000_000), [], [pay("01", 3_000_000)], table)
    assert duty.stamp_duty_amount == 1000
    assert not compute_stamp_duty(D(60000), [], [pay("02", 60000)], table).is_stamp_duty_applied
    assert compute_stamp_duty(
        D(60000), [], [pay("02", 60000)], table, cash_codes=("01", "02")
    ).is_stamp_duty_applied


def test_custom_stamp_duty_table():
    table = [StampDutyTier(target_amount=D(100), stamp_duty_amount=D(1))]
    assert compute_stamp_duty(D(100), [], [pay("01", 100)], table).stamp_duty_amount == 1
