"""Blind returns: a return without a receipt (issue 25).

The returned items are priced as adding them to a cart would price them now: the item's
current store price from master data (or a lower `unitPrice` the till gives; a higher one is
refused), taxed by the item's tax rule through the cart's own pricing engine, without
promotions or discounts (there is no sale whose discounts could be shared). The return is a
type-102 transaction with no `origin`, marked `blind`, recorded through the same tranlog and
outbox path as every other return. It always needs a manager's approval, and its total with
tax may not exceed the tenant's `BLIND_RETURN_LIMIT` (parameter master; default
`CartSettings.blind_return_limit`; 0: no limit).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from kugelpos.common.errors import PermissionDeniedError
from kugelpos.common.transactions import TransactionType

from .. import operations as ops
from ..cache.terminals import TerminalInfo
from ..carts.documents import CartDocument, CartMasters
from ..config import CartSettings
from ..domain.masters import DEFAULT_TAX_MASTER, tax_master_by_code
from ..domain.models import Cart, Payment
from ..errors import (
    BlindReturnOverLimitError,
    CartValidationError,
    ReturnPriceAboveStorePriceError,
)
from ..master_data_client import MasterDataClient, ReturnReason, parameter_amount, resolve_parameter
from ..payments.rules import refund
from ..pricing.engine import PricingContext
from ..pricing.lines import resolve_unit_price
from ..pricing.money import RoundMethod
from . import tranlog as build
from .documents import TranlogDocument
from .refunds import Approval, CreditIssued, RefundService, approval_reasons, approve
from .service import RefundRequest, TransactionService

BLIND_RETURN_LIMIT = "BLIND_RETURN_LIMIT"
RETURN = TransactionType.RETURN_SALES


@dataclass(frozen=True, slots=True)
class BlindLine:
    item_code: str
    quantity: int
    unit_price: Decimal | None = None


@dataclass(frozen=True, slots=True)
class BlindQuote:
    """The return as priced now: a computed cart (lines, taxes, totals) and its parameters."""

    cart: Cart
    parameters: dict[str, str | None]
    reason: ReturnReason | None = None
    # Always BLIND, and REASON_REQUIRES_APPROVAL when the reason says so.
    approval_reasons: tuple[str, ...] = ()


class BlindReturnService:
    def __init__(
        self,
        transactions: TransactionService,
        refunds: RefundService,
        masters: MasterDataClient,
        settings: CartSettings,
    ) -> None:
        self._transactions = transactions
        self._refunds = refunds
        self._masters = masters
        self._settings = settings

    async def quote(
        self,
        terminal: TerminalInfo,
        store_code: str,
        terminal_no: int,
        lines: Sequence[BlindLine],
        *,
        reason_code: str | None = None,
    ) -> BlindQuote:
        """What the return refunds now, within the limit, and its reason (writes nothing)."""
        if (store_code, terminal_no) != (terminal.store_code, terminal.terminal_no):
            raise PermissionDeniedError("A blind return is recorded by the till that takes it")
        tenant = terminal.tenant_id
        items, taxes, parameters = await asyncio.gather(
            asyncio.gather(
                *(self._masters.item(tenant, terminal.store_code, x.item_code) for x in lines)
            ),
            self._masters.taxes(tenant),
            self._masters.parameters(tenant),
        )
        entries = []
        for line, item in zip(lines, items, strict=True):
            current = resolve_unit_price(None, item)
            if line.unit_price is not None and line.unit_price > current:
                raise ReturnPriceAboveStorePriceError(
                    f"Item {line.item_code}: unitPrice {_plain(line.unit_price)} is above its "
                    f"current price {_plain(current)}"
                )
            entries.append(ops.ItemEntry(item, line.quantity, line.unit_price))
        values = {
            name: resolve_parameter(parameters, name, terminal.store_code, terminal.terminal_no)
            for name in (*build.PARAMETER_NAMES, BLIND_RETURN_LIMIT)
        }
        ctx = PricingContext(
            tax_master=tax_master_by_code(taxes or list(DEFAULT_TAX_MASTER)),
            discount_round_method=self._round_method,
        )
        cart = ops.create_cart(
            cart_id=f"blind-return:{uuid.uuid4()}",
            tenant_id=tenant,
            store_code=terminal.store_code,
            terminal_no=terminal.terminal_no,
            terminal_status=terminal.status or "",
            staff=terminal.staff,
            business_date=terminal.business_date,
        )
        cart = ops.add_items(cart, entries, ctx)
        limit = parameter_amount(values.pop(BLIND_RETURN_LIMIT))
        if limit is None:
            limit = self._settings.blind_return_limit
        if limit and cart.total_amount_with_tax > limit:
            raise BlindReturnOverLimitError(
                f"A return without a receipt of {_plain(cart.total_amount_with_tax)} is above "
                f"the limit of {_plain(limit)}"
            )
        reason = await self._masters.return_reason(tenant, reason_code) if reason_code else None
        return BlindQuote(
            cart=cart,
            parameters=values,
            reason=reason,
            approval_reasons=approval_reasons(reason, blind=True),
        )

    async def return_(
        self,
        terminal: TerminalInfo,
        store_code: str,
        terminal_no: int,
        lines: Sequence[BlindLine],
        requests: Sequence[RefundRequest],
        *,
        reason_code: str | None,
        approval: Approval | None,
    ) -> tuple[TranlogDocument, list[CreditIssued]]:
        quote = await self.quote(terminal, store_code, terminal_no, lines, reason_code=reason_code)
        tenant = terminal.tenant_id
        reason = quote.reason
        tenders = await self._tenders(tenant, requests)
        self._refunds.check_total(tenders, quote.cart.total_amount_with_tax)
        approved_by = await approve(
            self._masters, tenant, approval, "a return without a receipt always needs it"
        )
        tenders, issued = await self._refunds.store_credit(terminal, tenders, requests)
        await self._transactions.ready(tenant)
        number, receipt_no = await self._refunds.numbers(terminal)
        now = self._transactions.now()
        event_id = str(uuid.uuid4())
        doc = CartDocument(
            cart=quote.cart,
            terminal_id=terminal.terminal_id,
            open_counter=terminal.open_counter,
            business_counter=terminal.business_counter,
            masters=CartMasters(parameters=quote.parameters),
        )
        fields = build.from_cart(
            doc,
            terminal,
            transaction_no=number,
            receipt_no=receipt_no,
            generate_date_time=now,
            reference_date_time=now,
            event_id=event_id,
        )
        fields.update(
            transaction_type=RETURN,
            source_id=f"{RETURN}:{event_id}",
            payments=[build.payment_info(p) for p in tenders],
            blind=True,
        )
        fields["additional_info"] = {
            **fields["additional_info"],
            "return_reason_code": reason.reason_code if reason else None,
            "restock": reason.restock if reason else None,
            "approved_by": approved_by,
        }
        tran = await self._transactions.record(fields, actor=f"terminal:{terminal.terminal_id}")
        return tran, issued

    async def _tenders(self, tenant_id: str, requests: Sequence[RefundRequest]) -> list[Payment]:
        if not requests:
            raise CartValidationError("At least one refund payment is required")
        payments = []
        for no, request in enumerate(requests, start=1):
            master = await self._masters.payment(tenant_id, request.payment_code)
            payments.append(
                refund(master=master, amount=request.amount, payment_no=no, detail=request.detail)
            )
        return payments

    @property
    def _round_method(self) -> RoundMethod:
        try:
            return RoundMethod(self._settings.round_method_for_discount)
        except ValueError:
            return RoundMethod.ROUND


def _plain(amount: Decimal) -> str:
    return format(amount.normalize(), "f")
