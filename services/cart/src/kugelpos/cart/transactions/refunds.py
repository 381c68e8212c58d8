"""Void and return (spec §13): a conditional update of the original's `status_tran` claims it in
the same transaction that writes the new tranlog and its event, so of two concurrent voids
exactly one wins, and a claim never outlives a reversal that was not recorded (a process
killed between the two writes leaves neither). Refund tenders follow the payment master
(`can_refund`).
The new transaction is stamped with the acting terminal (§18.5) and its current staff (§18.6).
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from pymongo.asynchronous.client_session import AsyncClientSession

from kugelpos.common.cards import masked
from kugelpos.common.errors import ConflictError, PermissionDeniedError
from kugelpos.common.events.outbox import Outbox
from kugelpos.common.transactions import TransactionType

from ..cache.terminals import TerminalInfo
from ..config import CartSettings
from ..domain.models import Payment
from ..errors import (
    AlreadyRefundedError,
    AlreadyVoidedError,
    CartValidationError,
    ReturnApprovalRefusedError,
    ReturnApprovalRequiredError,
    ReturnLineNotReturnableError,
    ReturnQuantityExceededError,
    StoredValueNotReturnableError,
    StoredValueSpentError,
)
from ..master_data_client import (
    MasterDataClient,
    ReturnReason,
    parameter_flag,
    resolve_parameter,
)
from ..payments.rules import refund
from ..pricing.money import YEN_DIGITS, ZERO, to_decimal
from ..pricing.returns import (
    ReturnShare,
    SoldLine,
    allocate_return,
    remaining,
    sold_lines,
    sold_taxes,
)
from ..stored_value_client import StoredValueClient, Where
from . import tranlog as build
from .documents import TranlogDocument, TransactionStatusDocument
from .repository import TransactionStatusRepository, status_key
from .service import RefundRequest, TransactionService

SALE = TransactionType.NORMAL_SALES
RETURN = TransactionType.RETURN_SALES
VOID_SALE = TransactionType.VOID_SALES
VOID_RETURN = TransactionType.VOID_RETURN
# Parameter master (per tenant, store or terminal): "true" holds v1's array body to the tender
# rules of the object form. Off by default, because a v1 till cannot send `approval`.
RETURN_TENDER_RULES_FOR_V1 = "RETURN_TENDER_RULES_FOR_V1"
# Why a return needs a manager's approval, as a quote names it (`approvalReasons`). A quote has
# no payments, so it cannot name `other_tender` (docs/cart.md); the return's payments may.
REASON_REQUIRES_APPROVAL = "reason_requires_approval"
BLIND = "blind"
# Optimistic claims of a partial return: read, compute, claim if nothing changed; a lost race
# reads again (and then usually finds too little left).
CLAIM_ATTEMPTS = 8


@dataclass(frozen=True, slots=True)
class CreditIssued:
    """Store credit a return refunded onto: the card's whole number, shown once."""

    card_no: str
    amount: Decimal
    is_new: bool


class _NotClaimed(Exception):
    """The original changed since it was read: the transaction that would have recorded the
    reversal is aborted, nothing is written."""


def _claiming_return(
    statuses: TransactionStatusRepository, key: dict[str, Any], **claim: Any
) -> Callable[[AsyncClientSession], Awaitable[None]]:
    """The claim of a partial return on the sale's status, run in the return's transaction."""

    async def claim_in(session: AsyncClientSession) -> None:
        if not await statuses.claim_return(key, session=session, **claim):
            raise _NotClaimed

    return claim_in


def _giving_back(
    statuses: TransactionStatusRepository,
    key: dict[str, Any],
    quantities: dict[int, int],
    entry: dict[str, int],
) -> Callable[[AsyncClientSession], Awaitable[None]]:
    """A voided return's units given back to its sale, in the void's transaction."""

    async def give_back(session: AsyncClientSession) -> None:
        await statuses.give_back(key, quantities, entry, session=session)

    return give_back


MANAGER = "manager"


@dataclass(frozen=True, slots=True)
class Approval:
    staff_id: str
    pin: str


@dataclass(frozen=True, slots=True)
class _Rules:
    """What decides whether a return needs approval: the tenders to check (None: v1's body,
    whose tenders are not checked against the sale's), the reason and the approval sent."""

    tenders: Sequence[Payment] | None
    reason: ReturnReason | None
    approval: Approval | None
    all_tenders: Sequence[Payment] = ()
    # v1's array body, which has no room for `approval`: a refusal says how to send one.
    v1_body: bool = False


@dataclass(frozen=True, slots=True)
class ReturnQuote:
    """What a return would be, before it is claimed."""

    share: ReturnShare
    wanted: dict[int, int]
    returned_before: dict[int, int]
    all_back: bool
    whole: bool
    # What the return will need a manager's approval for, as far as is known without payments.
    approval_reasons: tuple[str, ...] = ()


class RefundService:
    def __init__(
        self,
        transactions: TransactionService,
        masters: MasterDataClient,
        outbox: Outbox,
        settings: CartSettings,
        stored_value: StoredValueClient,
        card_codes: frozenset[str] = frozenset(),
    ) -> None:
        self._transactions = transactions
        self._masters = masters
        self._outbox = outbox
        self._settings = settings
        self._stored_value = stored_value
        # Payment codes of cards (their plugin draws on a card): a refund by one goes onto
        # store credit, which needs no manager's approval (the money stays in the store).
        self._card_codes = card_codes

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
            if status and status.returned_units > 0:
                raise AlreadyRefundedError(
                    "This transaction has returns: void them before voiding the sale"
                )
            new_type = VOID_SALE
        elif original.transaction_type == RETURN:
            new_type = VOID_RETURN
        else:
            raise CartValidationError(
                f"A transaction of type {original.transaction_type} cannot be voided"
            )
        payments = await self._refunds(terminal.tenant_id, original, requests, exact=True)
        if new_type == VOID_SALE:
            await self._check_cards_untouched(terminal.tenant_id, original)
            payments = _card_refunds(original, payments)
        give_back: Callable[[AsyncClientSession], Awaitable[None]] | None = None
        if new_type == VOID_RETURN and original.origin:
            # The units the voided return took can be returned again, in the void's own
            # transaction.
            o = original.origin
            give_back = _giving_back(
                TransactionStatusRepository(
                    self._transactions.db(terminal.tenant_id), actor=terminal.terminal_id
                ),
                status_key(o["tenant_id"], o["store_code"], o["terminal_no"], o["transaction_no"]),
                _quantities(original.line_items),
                {"terminal_no": original.terminal_no, "transaction_no": original.transaction_no},
            )
        return await self._reverse(
            terminal,
            original,
            payments,
            new_type,
            flag="is_voided",
            also_not="is_refunded" if original.transaction_type == SALE else None,
            also=give_back,
        )

    async def return_(
        self,
        terminal: TerminalInfo,
        store_code: str,
        terminal_no: int,
        transaction_no: int,
        requests: Sequence[RefundRequest],
        lines: Mapping[int, int] | None = None,
        *,
        reason_code: str | None = None,
        approval: Approval | None = None,
        tender_rules: bool = True,
    ) -> tuple[TranlogDocument, list[CreditIssued]]:
        """A return of `lines` (line number -> units; None: everything not returned yet, v1's
        whole return) of a sale, refunded with `requests`, which must add up to what the
        returned units cost (issue 25, `pricing.returns`). Another tender than the sale's,
        more than was paid with one, or a reason that says so needs a manager's approval;
        v1's array body (`tender_rules` False) keeps v1's rule, any refundable tender, unless
        the tenant's RETURN_TENDER_RULES_FOR_V1 holds it to the same rules."""
        original, status = await self._returnable(terminal, store_code, terminal_no, transaction_no)
        tenant_id = terminal.tenant_id
        reason = await self._masters.return_reason(tenant_id, reason_code) if reason_code else None
        tenders = await self._tenders(tenant_id, original, requests, exact=False)
        # Checked before a number is drawn, so that a refusal leaves no gap; again after a
        # lost race, on what the winner left.
        checked = tender_rules or await self._v1_tender_rules(terminal)
        rules = _Rules(
            tenders if checked else None, reason, approval, tenders, v1_body=not tender_rules
        )
        quote, approved_by = await self._prepare(original, status, lines, rules, None)
        tenders, issued = await self.store_credit(terminal, tenders, requests)
        await self._transactions.ready(tenant_id)
        number, receipt_no = await self.numbers(terminal)
        now = self._transactions.now()
        staff = build.person(terminal.staff) or original.staff
        key = status_key(
            tenant_id, original.store_code, original.terminal_no, original.transaction_no
        )
        statuses = TransactionStatusRepository(
            self._transactions.db(tenant_id), actor=terminal.terminal_id
        )
        ref = {"terminal_no": terminal.terminal_no, "transaction_no": number}
        entry = {
            **ref,
            "payments": [
                {"payment_code": p.payment_code, "amount": build.money(p.payment_amount)}
                for p in tenders
            ],
        }
        await statuses.ensure(key)
        for attempt in range(CLAIM_ATTEMPTS):
            if attempt:
                status = await statuses.find_one(key)
                quote, approved_by = await self._prepare(
                    original, status, lines, rules, approved_by
                )
            after = dict(quote.returned_before)
            for n, q in quote.wanted.items():
                after[n] = after.get(n, 0) + q
            claim = _claiming_return(
                statuses,
                key,
                version=status.return_version if status else 0,
                returned=after,
                units=sum(quote.wanted.values()),
                entry=entry,
                all_back=quote.all_back,
                changes={
                    "return_transaction_no": number,
                    "return_date_time": now,
                    "return_staff_id": (staff or {}).get("id"),
                },
            )
            fields = build.reversal(
                original,
                terminal,
                new_type=RETURN,
                transaction_no=number,
                receipt_no=receipt_no,
                now=now,
                staff=staff,
                payments=tenders,
                event_id=str(uuid.uuid4()),
                part=build.returned_part(original, quote.share, whole=quote.whole),
            )
            if reason is not None or approved_by is not None:
                fields["additional_info"] = {
                    **(fields.get("additional_info") or {}),
                    "return_reason_code": reason.reason_code if reason else None,
                    "restock": reason.restock if reason else None,
                    "approved_by": approved_by,
                }
            try:
                tran = await self._transactions.record(
                    fields, actor=f"terminal:{terminal.terminal_id}", within=claim
                )
                return tran, issued
            except _NotClaimed:
                continue
        raise ConflictError("The sale is being returned elsewhere; try again")

    async def _prepare(
        self,
        original: TranlogDocument,
        status: TransactionStatusDocument | None,
        lines: Mapping[int, int] | None,
        rules: _Rules,
        approved_by: str | None,
    ) -> tuple[ReturnQuote, str | None]:
        """The return on the status as read: its quote, its refund total, its approval."""
        quote = self.quote_of(original, status, lines)
        self.check_total(rules.all_tenders, quote.share.total_amount_with_tax)
        tenders = rules.tenders
        if tenders is not None:
            tenders = [t for t in tenders if t.payment_code not in self._card_codes]
        why = _approval_needed(original, status, tenders, rules.reason)
        if why and approved_by is None:
            if rules.v1_body:
                raise ReturnApprovalRequiredError(
                    f"A manager's approval is required: {why}; v1's array body cannot carry "
                    "one: send the object form with `approval` (or refund with the sale's "
                    "own tenders)"
                )
            approved_by = await self._approve(original.tenant_id, rules.approval, why)
        return quote, approved_by

    async def _v1_tender_rules(self, terminal: TerminalInfo) -> bool:
        """Whether the tenant holds v1's array body to the tender rules (parameter master;
        the list is cached with the master-data reads, as the receipt numbers' are)."""
        parameters = await self._masters.parameters(terminal.tenant_id)
        raw = resolve_parameter(
            parameters, RETURN_TENDER_RULES_FOR_V1, terminal.store_code, terminal.terminal_no
        )
        return parameter_flag(raw)

    async def _approve(self, tenant_id: str, approval: Approval | None, why: str) -> str:
        return await approve(self._masters, tenant_id, approval, why)

    async def quote(
        self,
        terminal: TerminalInfo,
        store_code: str,
        terminal_no: int,
        transaction_no: int,
        lines: Mapping[int, int] | None = None,
        *,
        reason_code: str | None = None,
    ) -> ReturnQuote:
        """What a return would refund now, and what it needs approval for before its
        payments are known (writes nothing; an unknown reason is refused as by the return)."""
        original, status = await self._returnable(terminal, store_code, terminal_no, transaction_no)
        quote = self.quote_of(original, status, lines)
        tenant_id = terminal.tenant_id
        reason = await self._masters.return_reason(tenant_id, reason_code) if reason_code else None
        return dataclasses.replace(quote, approval_reasons=approval_reasons(reason))

    async def _returnable(
        self, terminal: TerminalInfo, store_code: str, terminal_no: int, transaction_no: int
    ) -> tuple[TranlogDocument, TransactionStatusDocument | None]:
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
        return original, status

    @staticmethod
    def quote_of(
        original: TranlogDocument,
        status: TransactionStatusDocument | None,
        lines: Mapping[int, int] | None,
    ) -> ReturnQuote:
        if status and status.is_voided:
            raise AlreadyVoidedError("This transaction has already been voided")
        if status and status.is_refunded:
            raise AlreadyRefundedError("This transaction has already been refunded")
        sold = sold_lines(original.line_items)
        before = status.returned() if status else {}
        left = remaining(sold, before)
        wanted = _wanted(sold, left, lines)
        if not wanted:
            raise AlreadyRefundedError("This transaction has already been refunded")
        share = allocate_return(sold, sold_taxes(original.taxes), before, wanted, YEN_DIGITS)
        all_back = all(wanted.get(n, 0) >= q for n, q in left.items())
        return ReturnQuote(
            share=share,
            wanted=wanted,
            returned_before=before,
            all_back=all_back,
            whole=all_back and not any(before.values()),
        )

    async def store_credit(
        self, terminal: TerminalInfo, tenders: list[Payment], requests: Sequence[RefundRequest]
    ) -> tuple[list[Payment], list[CreditIssued]]:
        """Refunds by a card's payment code go onto store credit (issue 26): the card the
        request names, or a new credit card issued now; a refund load is registered for each,
        which the return's log applies. Done once, after every check of the return passed."""
        issued: list[CreditIssued] = []
        out: list[Payment] = []
        for tender, request in zip(tenders, requests, strict=True):
            if tender.payment_code not in self._card_codes:
                out.append(tender)
                continue
            tenant_id = terminal.tenant_id
            card_no = request.card_no or await self._stored_value.issue_credit_card(tenant_id)
            amount = tender.payment_amount
            if amount != amount.to_integral_value():
                raise CartValidationError(f"{amount} is not a whole amount")
            load = await self._stored_value.register_load(
                tenant_id,
                card_no,
                int(amount),
                kind="refund",
                load_id=f"R-{uuid.uuid4().hex}",
                at=Where(
                    f"return:{terminal.terminal_id}", terminal.store_code, terminal.terminal_no
                ),
            )
            issued.append(CreditIssued(card_no, amount, is_new=request.card_no is None))
            out.append(
                tender.model_copy(
                    update={
                        "card_no": masked(card_no),
                        "card_load_id": str(load["loadId"]),
                        "payment_detail": masked(card_no),
                    }
                )
            )
        return out, issued

    async def _check_cards_untouched(self, tenant_id: str, original: TranlogDocument) -> None:
        """A sale that loaded cards is voided only while they are as it left them (issue 26):
        the void's log takes the loads off again, which a card since used cannot give."""
        for line in original.line_items:
            load_id = line.get("card_load_id")
            if not load_id or line.get("is_cancelled"):
                continue
            load = await self._stored_value.load(tenant_id, str(load_id))
            if load is None or not load.get("reversible"):
                raise StoredValueSpentError(
                    f"The card {line.get('card_no')} of line {line.get('line_no')} has been "
                    "used since this sale: it cannot be voided"
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
        payments = await self._tenders(tenant_id, original, requests, exact=exact)
        self.check_total(payments, to_decimal(original.sales.get("total_amount_with_tax") or 0))
        return payments

    async def _tenders(
        self,
        tenant_id: str,
        original: TranlogDocument,
        requests: Sequence[RefundRequest],
        *,
        exact: bool,
    ) -> list[Payment]:
        """Refund tenders (spec §13.3): each must be refundable per its payment master; for a
        void each code must be one the original was paid with, for the same amount."""
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
        return payments

    @staticmethod
    def check_total(payments: Sequence[Payment], total: Any) -> None:
        """The refund tenders must add up to what is refunded (the total with tax)."""
        refunded = sum((p.payment_amount for p in payments), ZERO)
        if refunded != total:
            raise CartValidationError(
                f"Refund payments add up to {refunded}, the amount to refund is {total}"
            )

    async def numbers(self, terminal: TerminalInfo) -> tuple[int, int]:
        parameters = await self._masters.parameters(terminal.tenant_id)
        values = {
            name: resolve_parameter(parameters, name, terminal.store_code, terminal.terminal_no)
            for name in build.PARAMETER_NAMES
        }
        start, end = build.receipt_range(
            values, self._settings.receipt_no_start_value, self._settings.receipt_no_end_value
        )
        return await self._transactions.numbers(
            terminal.tenant_id, terminal.terminal_id, start, end
        )

    async def _reverse(
        self,
        terminal: TerminalInfo,
        original: TranlogDocument,
        payments: list[Payment],
        new_type: int,
        *,
        flag: str,
        also_not: str | None,
        also: Callable[[AsyncClientSession], Awaitable[None]] | None = None,
    ) -> TranlogDocument:
        tenant_id = terminal.tenant_id
        await self._transactions.ready(tenant_id)
        transaction_no, receipt_no = await self.numbers(terminal)
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
        await statuses.ensure(key)

        async def claim_original(session: AsyncClientSession) -> None:
            claimed = await statuses.claim(
                key,
                flag,
                claim,
                also_not=also_not,
                without_returns=new_type == VOID_SALE,
                session=session,
            )
            if not claimed:
                raise _NotClaimed
            if also is not None:
                await also(session)

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
            return await self._transactions.record(
                fields, actor=f"terminal:{terminal.terminal_id}", within=claim_original
            )
        except _NotClaimed:
            latest = await statuses.find_one(key)
            if latest is not None and latest.is_voided:
                raise AlreadyVoidedError("This transaction has already been voided") from None
            raise AlreadyRefundedError("This transaction has already been refunded") from None


async def approve(
    masters: MasterDataClient, tenant_id: str, approval: Approval | None, why: str
) -> str:
    """A manager's approval: the staff member's PIN (master-data's check and throttle, as at
    sign-in; 429 when throttled), then the manager role on the staff record."""
    if approval is None:
        raise ReturnApprovalRequiredError(f"A manager's approval is required: {why}")
    if not await masters.verify_pin(tenant_id, approval.staff_id, approval.pin):
        raise ReturnApprovalRefusedError("The approval's staff id or PIN is wrong")
    roles = await masters.staff_roles(tenant_id, approval.staff_id)
    if MANAGER not in (roles or []):
        raise ReturnApprovalRefusedError(
            f"Staff {approval.staff_id} does not have the {MANAGER} role"
        )
    return approval.staff_id


def approval_reasons(reason: ReturnReason | None, *, blind: bool = False) -> tuple[str, ...]:
    """What a return needs a manager's approval for before its payments are known: being
    blind, a reason that requires it."""
    reasons = [BLIND] if blind else []
    if reason is not None and reason.requires_approval:
        reasons.append(REASON_REQUIRES_APPROVAL)
    return tuple(reasons)


def _card_refunds(original: TranlogDocument, payments: list[Payment]) -> list[Payment]:
    """A void gives each card payment back to its own card: the refund by the card's payment
    code becomes the sale's own card payments (same amounts: a void refunds each code
    exactly), each naming its hold, which the void's log refunds."""
    held = [p for p in original.payments if p.get("hold_id")]
    if not held:
        return payments
    codes = {str(p.get("payment_code")) for p in held}
    kept = [p for p in payments if p.payment_code not in codes]
    for p in held:
        kept.append(
            Payment(
                payment_no=0,
                payment_code=str(p.get("payment_code")),
                payment_name=str(p.get("description") or ""),
                payment_amount=to_decimal(p.get("amount") or 0),
                deposit_amount=ZERO,
                payment_detail=p.get("detail"),
                card_no=p.get("card_no"),
                hold_id=str(p.get("hold_id")),
            )
        )
    return [p.model_copy(update={"payment_no": i}) for i, p in enumerate(kept, start=1)]


def _quantities(line_items: Sequence[Mapping[str, Any]]) -> dict[int, int]:
    return {int(line["line_no"]): int(line.get("quantity") or 0) for line in line_items}


def _wanted(
    sold: Sequence[SoldLine], left: Mapping[int, int], lines: Mapping[int, int] | None
) -> dict[int, int]:
    """The units a return takes: everything left (no `lines`), or the lines asked for, each
    a line of the sale that is not cancelled, at most what is left of it."""
    if lines is None:
        return {n: q for n, q in left.items() if q > 0}
    known = {line.line_no for line in sold}
    cards = {line.line_no for line in sold if line.is_stored_value}
    for n, q in lines.items():
        if n in cards:
            raise StoredValueNotReturnableError(
                f"Line {n} sold a gift card: its money is on the card; void the sale instead"
            )
        if n not in known or n not in left:
            raise ReturnLineNotReturnableError(
                f"Line {n} cannot be returned: "
                + ("the sale has no such line" if n not in known else "it was cancelled")
            )
        if q > left[n]:
            raise ReturnQuantityExceededError(f"Line {n}: {q} asked, {left[n]} left to return")
    return dict(lines)


def _approval_needed(
    original: TranlogDocument,
    status: TransactionStatusDocument | None,
    tenders: Sequence[Payment] | None,
    reason: ReturnReason | None,
) -> str | None:
    """Why a return needs a manager's approval (None: it does not): a tender the sale was not
    paid with, more by a tender than was paid with it minus what earlier live returns refunded
    with it, or a reason that requires it."""
    paid: dict[str, Any] = {}
    for p in original.payments:
        code = p.get("payment_code")
        paid[code] = paid.get(code, ZERO) + to_decimal(p.get("amount") or 0)
    refunded: dict[str, Any] = {}
    for entry in status.returns if status else ():
        for p in entry.get("payments") or ():
            code = p.get("payment_code")
            refunded[code] = refunded.get(code, ZERO) + to_decimal(p.get("amount") or 0)
    now: dict[str, Any] = {}
    for t in tenders or ():
        now[t.payment_code] = now.get(t.payment_code, ZERO) + t.payment_amount
    for code, amount in now.items():
        if code not in paid:
            return f"a refund by {code}, which the sale was not paid with"
        if refunded.get(code, ZERO) + amount > paid[code]:
            left = paid[code] - refunded.get(code, ZERO)
            return (
                f"a refund of {_plain(amount)} by {code}, of which {_plain(left)} is left to refund"
            )
    if reason is not None and reason.requires_approval:
        return f"the reason {reason.reason_code} requires it"
    return None


def _plain(amount: Any) -> str:
    return format(to_decimal(amount).normalize(), "f")
