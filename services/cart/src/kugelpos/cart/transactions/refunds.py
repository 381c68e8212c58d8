"""Void and return (spec §13): a conditional upsert on `status_tran` claims the original before
anything is written, so of two concurrent voids exactly one wins; if writing the new tranlog
then fails, the claim is released. Refund tenders follow the payment master (`can_refund`).
The new transaction is stamped with the acting terminal (§18.5) and its current staff (§18.6).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from kugelpos.common.errors import PermissionDeniedError
from kugelpos.common.events.outbox import Outbox
from kugelpos.common.transactions import TransactionType

from ..cache.terminals import TerminalInfo
from ..config import CartSettings
from ..domain.models import Payment
from ..errors import AlreadyRefundedError, AlreadyVoidedError, CartValidationError
from ..master_data_client import MasterDataClient, resolve_parameter
from ..payments.rules import refund
from ..pricing.money import ZERO, to_decimal
from . import tranlog as build
from .documents import TranlogDocument
from .repository import TransactionStatusRepository, status_key
from .service import RefundRequest, TransactionService

SALE = TransactionType.NORMAL_SALES
RETURN = TransactionType.RETURN_SALES
VOID_SALE = TransactionType.VOID_SALES
VOID_RETURN = TransactionType.VOID_RETURN


class RefundService:
    def __init__(
        self,
        transactions: TransactionService,
        masters: MasterDataClient,
        outbox: Outbox,
        settings: CartSettings,
    ) -> None:
        self._transactions = transactions
        self._masters = masters
        self._outbox = outbox
        self._settings = settings

    async def void(
        self,
        terminal: TerminalInfo,
        store_code: str,
        terminal_no: int,
        transaction_no: int,
        requests: Sequence[RefundRequest],
    ) -> TranlogDocument:
        if (store_code, terminal_no) != (terminal.store_code, terminal.terminal_no):
            raise PermissionDeniedError(
                "A transaction can be voided only by the terminal that recorded it"
            )
        original, status = await self._transactions.get(
            terminal.tenant_id, store_code, terminal_no, transaction_no
        )
        self._check_not_cancelled(original)
        if status and status.is_voided:
            raise AlreadyVoidedError("This transaction has already been voided")
        if original.transaction_type == SALE:
            if status and status.is_refunded:
                raise AlreadyRefundedError("This transaction has already been refunded")
            new_type = VOID_SALE
        elif original.transaction_type == RETURN:
            new_type = VOID_RETURN
        else:
            raise CartValidationError(
                f"A transaction of type {original.transaction_type} cannot be voided"
            )
        payments = await self._refunds(terminal.tenant_id, original, requests, exact=True)
        tran = await self._reverse(
            terminal,
            original,
            payments,
            new_type,
            flag="is_voided",
            also_not="is_refunded" if original.transaction_type == SALE else None,
        )
        if new_type == VOID_RETURN and original.origin:
            # The sale the voided return refunded can be returned again.
            o = original.origin
            repo = TransactionStatusRepository(self._transactions.db(terminal.tenant_id))
            await repo.unset(
                status_key(o["tenant_id"], o["store_code"], o["terminal_no"], o["transaction_no"]),
                {
                    "is_refunded": False,
                    "return_transaction_no": None,
                    "return_date_time": None,
                    "return_staff_id": None,
                },
            )
        return tran

    async def return_(
        self,
        terminal: TerminalInfo,
        store_code: str,
        terminal_no: int,
        transaction_no: int,
        requests: Sequence[RefundRequest],
    ) -> TranlogDocument:
        if store_code != terminal.store_code:
            raise PermissionDeniedError("A transaction can be returned only in its own store")
        original, status = await self._transactions.get(
            terminal.tenant_id, store_code, terminal_no, transaction_no
        )
        self._check_not_cancelled(original)
        if status and status.is_voided:
            raise AlreadyVoidedError("This transaction has already been voided")
        if status and status.is_refunded:
            raise AlreadyRefundedError("This transaction has already been refunded")
        if original.transaction_type != SALE:
            raise CartValidationError(
                f"A transaction of type {original.transaction_type} cannot be returned"
            )
        payments = await self._refunds(terminal.tenant_id, original, requests, exact=False)
        return await self._reverse(
            terminal, original, payments, RETURN, flag="is_refunded", also_not="is_voided"
        )

    @staticmethod
    def _check_not_cancelled(original: TranlogDocument) -> None:
        if original.sales.get("is_cancelled"):
            raise CartValidationError("A cancelled transaction cannot be voided or returned")

    async def _refunds(
        self,
        tenant_id: str,
        original: TranlogDocument,
        requests: Sequence[RefundRequest],
        *,
        exact: bool,
    ) -> list[Payment]:
        """Refund tenders (spec §13.3): each must be refundable per its payment master; for a
        void each code must be one the original was paid with, for the same amount; in all
        cases they must add up to the original's total with tax."""
        if not requests:
            raise CartValidationError("At least one refund payment is required")
        paid: dict[str, Any] = {}
        for p in original.payments:
            code = p.get("payment_code")
            paid[code] = paid.get(code, ZERO) + to_decimal(p.get("amount") or 0)
        payments: list[Payment] = []
        for no, request in enumerate(requests, start=1):
            master = await self._masters.payment(tenant_id, request.payment_code)
            payment = refund(
                master=master, amount=request.amount, payment_no=no, detail=request.detail
            )
            if exact and paid.get(request.payment_code) != payment.payment_amount:
                raise CartValidationError(
                    f"Refund by {request.payment_code} must be {paid.get(request.payment_code)}, "
                    "the amount the transaction was paid with it"
                )
            payments.append(payment)
        total = to_decimal(original.sales.get("total_amount_with_tax") or 0)
        refunded = sum((p.payment_amount for p in payments), ZERO)
        if refunded != total:
            raise CartValidationError(
                f"Refund payments add up to {refunded}, the transaction total is {total}"
            )
        return payments

    async def _reverse(
        self,
        terminal: TerminalInfo,
        original: TranlogDocument,
        payments: list[Payment],
        new_type: int,
        *,
        flag: str,
        also_not: str | None,
    ) -> TranlogDocument:
        tenant_id = terminal.tenant_id
        await self._transactions.ready(tenant_id)
        parameters = await self._masters.parameters(tenant_id)
        values = {
            name: resolve_parameter(parameters, name, terminal.store_code, terminal.terminal_no)
            for name in build.PARAMETER_NAMES
        }
        start, end = build.receipt_range(
            values, self._settings.receipt_no_start_value, self._settings.receipt_no_end_value
        )
        transaction_no, receipt_no = await self._transactions.numbers(
            tenant_id, terminal.terminal_id, start, end
        )
        now = self._transactions.now()
        staff = build.person(terminal.staff) or original.staff
        prefix = "void" if flag == "is_voided" else "return"
        key = status_key(
            tenant_id, original.store_code, original.terminal_no, original.transaction_no
        )
        statuses = TransactionStatusRepository(
            self._transactions.db(tenant_id), actor=terminal.terminal_id
        )
        claim = {
            f"{prefix}_transaction_no": transaction_no,
            f"{prefix}_date_time": now,
            f"{prefix}_staff_id": (staff or {}).get("id"),
        }
        claimed = await statuses.claim(key, flag, claim, also_not=also_not)
        if not claimed:
            latest = await statuses.find_one(key)
            if latest is not None and latest.is_voided:
                raise AlreadyVoidedError("This transaction has already been voided")
            raise AlreadyRefundedError("This transaction has already been refunded")
        fields = build.reversal(
            original,
            terminal,
            new_type=new_type,
            transaction_no=transaction_no,
            receipt_no=receipt_no,
            now=now,
            staff=staff,
            payments=payments,
            event_id=str(uuid.uuid4()),
        )
        try:
            return await self._transactions.record(fields, actor=f"terminal:{terminal.terminal_id}")
        except BaseException:
            await statuses.unset(
                key,
                {flag: False, **dict.fromkeys(claim)},
                only_if={f"{prefix}_transaction_no": transaction_no},
            )
            raise
