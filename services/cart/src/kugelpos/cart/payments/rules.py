"""Payment rules as pure functions, for the payment plugins (spec §6, §13.3, §18.11).

A plugin brings a `PaymentRule`: what its kind of tender can do at most. Cash `01` may be
over-tendered and gives change; cashless `11` and others `12` are charged exactly (spec §6).
The payment master's flags can only narrow that, and are always honoured (v1 ignored them):

* `is_active` false → the method is refused (403007);
* over-tender needs the rule **and** `can_deposit_over`, else 406 / 403004;
* change needs the rule **and** `can_change`; over-tender without change keeps the excess
  (the balance is paid, `deposit_amount` records what was handed over, no change);
* `limit_amount` > 0 caps the amount applied to the balance (403008); 0 means no limit;
* refunds (void/return) need `can_refund` (403009).

A cash tender (a rule that `counts_as_cash`) is also held to the tenant's ceilings
(`payments.limits`): the amount handed over above `CashLimits.tender` is 403010, change above
`CashLimits.change` is 403011; 0 means no ceiling.

Amounts are positive and carry no more decimals than the currency; a payment at balance <= 0
is 406 / 403001; a payment never takes the balance below zero.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from ..domain.masters import PaymentMaster
from ..domain.models import Payment
from ..errors import (
    BalanceMinusError,
    BalanceZeroError,
    CartValidationError,
    CashChangeOverLimitError,
    CashTenderOverLimitError,
    DepositOverBalanceError,
    PaymentLimitExceededError,
    PaymentMethodInactiveError,
    RefundNotAllowedError,
)
from ..pricing.money import YEN_DIGITS, ZERO, is_multiple_of_quantum, to_decimal
from .limits import CashLimits


@dataclass(frozen=True, slots=True)
class PaymentRule:
    """The most a kind of tender allows; the master's flags narrow it."""

    name: str
    allows_over_tender: bool
    gives_change: bool
    counts_as_cash: bool = False  # notes and coins: held to the cash ceilings
    # A gift card or store credit: the payment holds its amount on the card (stored value).
    draws_on_card: bool = False


CASH = PaymentRule("cash", allows_over_tender=True, gives_change=True, counts_as_cash=True)
CASHLESS = PaymentRule("cashless", allows_over_tender=False, gives_change=False)
OTHERS = PaymentRule("others", allows_over_tender=False, gives_change=False)
STORED_VALUE = PaymentRule(
    "stored_value", allows_over_tender=False, gives_change=False, draws_on_card=True
)

# Default plugin configuration of spec §9 (payment_strategies).
DEFAULT_RULES: dict[str, PaymentRule] = {
    "01": CASH,
    "11": CASHLESS,
    "12": OTHERS,
    "21": STORED_VALUE,
}


def validate_amount(amount: Decimal | int | str | float, digits: int = YEN_DIGITS) -> Decimal:
    """A tendered amount: > 0 with no more decimals than the currency (v1 took negatives)."""
    try:
        value = to_decimal(amount)
    except (TypeError, ValueError) as exc:
        raise CartValidationError(f"invalid payment amount: {amount!r}") from exc
    if value <= 0:
        raise CartValidationError(f"payment amount must be positive, got {value}")
    if not is_multiple_of_quantum(value, digits):
        raise CartValidationError(f"payment amount has too many decimals: {value}")
    return value


def tender(
    *,
    rule: PaymentRule,
    master: PaymentMaster,
    amount: Decimal | int | str | float,
    balance: Decimal,
    payment_no: int,
    detail: str | None = None,
    digits: int = YEN_DIGITS,
    cash_limits: CashLimits | None = None,
) -> Payment:
    """Apply one tender to `balance` and return the payment (the caller appends it and
    deducts `payment_amount` from the balance). `cash_limits`: the ceilings a cash tender is
    held to (none if not given)."""
    value = validate_amount(amount, digits)
    if balance <= 0:
        raise BalanceZeroError(f"balance is already {balance}; no payment is due")
    if not master.is_active:
        raise PaymentMethodInactiveError(f"payment method {master.payment_code!r} is not active")
    limits = cash_limits if rule.counts_as_cash and cash_limits is not None else None
    if limits is not None and 0 < limits.tender < value:
        raise CashTenderOverLimitError(
            f"cash tender {value} exceeds the limit {limits.tender} for one tender"
        )
    change = ZERO
    if value > balance:
        if not (rule.allows_over_tender and master.can_deposit_over):
            raise DepositOverBalanceError(
                f"payment {value} by {master.payment_code!r} exceeds the balance {balance}"
            )
        applied = balance
        if rule.gives_change and master.can_change:
            change = value - balance
            if limits is not None and 0 < limits.change < change:
                raise CashChangeOverLimitError(f"change {change} exceeds the limit {limits.change}")
    else:
        applied = value
    if master.limit_amount > 0 and applied > master.limit_amount:
        raise PaymentLimitExceededError(
            f"payment {applied} exceeds the limit {master.limit_amount} of {master.payment_code!r}"
        )
    if balance - applied < 0:  # cannot happen with the rules above; kept as a guard
        raise BalanceMinusError(f"payment {applied} would make the balance negative")
    return Payment(
        payment_no=payment_no,
        payment_code=master.payment_code,
        payment_name=master.description,
        payment_amount=applied,
        deposit_amount=value,
        change_amount=change,
        payment_detail=detail,
    )


def refund(
    *,
    master: PaymentMaster,
    amount: Decimal | int | str | float,
    payment_no: int,
    detail: str | None = None,
    digits: int = YEN_DIGITS,
) -> Payment:
    """A refund payment of a void or return (spec §13.3): the method must allow refunds; the
    deposit is recorded only for methods that take over-tender and give change (cash)."""
    value = validate_amount(amount, digits)
    if not master.can_refund:
        raise RefundNotAllowedError(f"payment method {master.payment_code!r} cannot be refunded")
    deposit = value if master.can_deposit_over and master.can_change else ZERO
    return Payment(
        payment_no=payment_no,
        payment_code=master.payment_code,
        payment_name=master.description,
        payment_amount=value,
        deposit_amount=deposit,
        payment_detail=detail,
    )
