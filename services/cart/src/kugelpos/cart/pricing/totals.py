"""Totals, balance, change and stamp duty (spec §5.5, §6, §10.4).

```
subtotal_amount        = Σ line.amount                       (non-cancelled lines)
total_amount           = subtotal_amount - Σ subtotal discounts
tax_amount             = Σ tax_amount of External taxes      (internal tax is inside the price)
total_amount_with_tax  = total_amount + tax_amount
total_quantity         = Σ line.quantity
total_discount_amount  = Σ line discounts + Σ subtotal discounts
deposit_amount         = Σ payments.deposit_amount           (what was handed over)
change_amount          = Σ payments.change_amount            (derived: cleared with payments)
balance_amount         = total_amount_with_tax - Σ payments.payment_amount
```

Nothing here rounds: every term is already rounded where the spec rounds it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from ..domain.masters import StampDutyTier
from ..domain.models import Discount, LineItem, Payment, Tax, TaxType
from .money import ZERO

CASH_PAYMENT_CODES: tuple[str, ...] = ("01",)


@dataclass(frozen=True, slots=True)
class Totals:
    subtotal_amount: Decimal
    total_amount: Decimal
    tax_amount: Decimal
    total_amount_with_tax: Decimal
    total_quantity: int
    total_discount_amount: Decimal


@dataclass(frozen=True, slots=True)
class PaymentTotals:
    deposit_amount: Decimal
    change_amount: Decimal
    paid_amount: Decimal
    balance_amount: Decimal


@dataclass(frozen=True, slots=True)
class StampDuty:
    is_stamp_duty_applied: bool = False
    stamp_duty_target_amount: Decimal = ZERO
    stamp_duty_amount: Decimal = ZERO


def compute_totals(
    lines: Sequence[LineItem], taxes: Sequence[Tax], subtotal_discounts: Sequence[Discount]
) -> Totals:
    active = [line for line in lines if not line.is_cancelled]
    subtotal = sum((line.amount for line in active), ZERO)
    cart_discounts = sum((d.discount_amount for d in subtotal_discounts), ZERO)
    line_discounts = sum((line.line_discount_amount for line in active), ZERO)
    external_tax = sum((t.tax_amount for t in taxes if t.tax_type is TaxType.EXTERNAL), ZERO)
    total = subtotal - cart_discounts
    return Totals(
        subtotal_amount=subtotal,
        total_amount=total,
        tax_amount=external_tax,
        total_amount_with_tax=total + external_tax,
        total_quantity=sum(line.quantity for line in active),
        total_discount_amount=line_discounts + cart_discounts,
    )


def compute_payment_totals(
    total_amount_with_tax: Decimal, payments: Iterable[Payment]
) -> PaymentTotals:
    payments = list(payments)
    paid = sum((p.payment_amount for p in payments), ZERO)
    return PaymentTotals(
        deposit_amount=sum((p.deposit_amount for p in payments), ZERO),
        change_amount=sum((p.change_amount for p in payments), ZERO),
        paid_amount=paid,
        balance_amount=total_amount_with_tax - paid,
    )


def compute_stamp_duty(
    total_amount_with_tax: Decimal,
    taxes: Sequence[Tax],
    payments: Sequence[Payment],
    table: Sequence[StampDutyTier],
    cash_codes: Sequence[str] = CASH_PAYMENT_CODES,
) -> StampDuty:
    """Spec §10.4: the receipt needs a revenue stamp when both the amount without tax (all tax
    types deducted) and the part paid in cash reach a tier; the highest such tier wins and
    `stamp_duty_target_amount` is the cash part."""
    without_tax = total_amount_with_tax - sum((t.tax_amount for t in taxes), ZERO)
    cash = sum((p.payment_amount for p in payments if p.payment_code in cash_codes), ZERO)
    for tier in sorted(table, key=lambda t: t.target_amount, reverse=True):
        if tier.target_amount <= without_tax and tier.target_amount <= cash:
            return StampDuty(True, cash, tier.stamp_duty_amount)
    return StampDuty()
