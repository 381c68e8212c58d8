"""Payment plugins: one class per kind of tender, configured per payment code.

The rule says what the kind of tender can do at most (cash may be over-tendered and gives
change; cashless and others are charged exactly); the payment master's flags (`is_active`,
`can_deposit_over`, `can_change`, `limit_amount`, `can_refund`) narrow it on every payment
(`payments.rules.tender` / `refund`).
"""

from __future__ import annotations

from ..payments.rules import CASH, CASHLESS, OTHERS, STORED_VALUE, PaymentRule


class _PaymentPlugin:
    rule: PaymentRule

    def __init__(self, payment_code: str) -> None:
        self.payment_code = str(payment_code)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.payment_code!r})"


class PaymentByCash(_PaymentPlugin):
    rule = CASH


class PaymentByCashless(_PaymentPlugin):
    rule = CASHLESS


class PaymentByOthers(_PaymentPlugin):
    rule = OTHERS


class PaymentByStoredValue(_PaymentPlugin):
    """A gift card or store credit (issue 26): the payment places a hold on the card through
    the stored-value service; the bill's log captures it."""

    rule = STORED_VALUE
