"""How a payment method is stored in `master_payment`."""

from __future__ import annotations

from decimal import Decimal

from ..documents import MasterDocument, StoredDecimal


class PaymentDocument(MasterDocument):
    payment_code: str
    description: str
    limit_amount: StoredDecimal = Decimal(0)  # 0 = no limit
    can_refund: bool = True
    can_deposit_over: bool = False
    can_change: bool = False
    is_active: bool = True
