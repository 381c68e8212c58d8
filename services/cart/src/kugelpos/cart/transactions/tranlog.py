"""Building transaction logs (spec §10, §11): from a billed or cancelled cart, and as the copy
of an original for a void or return (spec §13). Amounts leave `Decimal` here, as JSON numbers,
exactly as consumers expect them (report-journal-events §1.4.1)."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from ..cache.terminals import TerminalInfo
from ..carts.documents import CartDocument
from ..domain.models import Cart, Discount, LineItem, Payment, Person, Tax
from ..pricing.money import ZERO
from ..pricing.returns import ReturnShare
from .documents import PRIVATE_FIELDS, TranlogDocument

INVOICE_REGISTRATION_NUMBER = "INVOICE_REGISTRATION_NUMBER"
RECEIPT_HEADERS = "RECEIPT_HEADERS"
RECEIPT_FOOTERS = "RECEIPT_FOOTERS"
RECEIPT_NO_START_VALUE = "RECEIPT_NO_START_VALUE"
RECEIPT_NO_END_VALUE = "RECEIPT_NO_END_VALUE"
PARAMETER_NAMES = (
    INVOICE_REGISTRATION_NUMBER,
    RECEIPT_HEADERS,
    RECEIPT_FOOTERS,
    RECEIPT_NO_START_VALUE,
    RECEIPT_NO_END_VALUE,
)
ALIGNS = frozenset({"left", "center", "right"})


def money(value: Decimal) -> float:
    return float(value)


def person(p: Person | None) -> dict[str, Any] | None:
    return None if p is None else {"id": p.id, "name": p.name}


def discount_info(d: Discount) -> dict[str, Any]:
    return {
        "seq_no": d.seq_no,
        "discount_type": d.discount_type.value,
        "discount_value": money(d.discount_value),
        "discount_amount": money(d.discount_amount),
        "detail": d.discount_detail,
        "promotion_code": d.promotion_code,
        "promotion_type": d.promotion_type,
    }


def line_info(line: LineItem) -> dict[str, Any]:
    return _with_card(
        line,
        {
            "line_no": line.line_no,
            "item_code": line.item_code,
            "category_code": line.category_code,
            "description": line.item_name,
            "description_short": line.item_name_short,
            "unit_price": money(line.unit_price),
            "unit_price_original": money(line.unit_price_original or ZERO),
            "is_unit_price_changed": line.is_unit_price_changed,
            "quantity": line.quantity,
            "discounts": [discount_info(d) for d in line.discounts],
            "discounts_allocated": [discount_info(d) for d in line.discounts_allocated],
            "amount": money(line.amount),
            "tax_code": line.tax_code,
            "is_cancelled": line.is_cancelled,
        },
    )


def payment_info(p: Payment) -> dict[str, Any]:
    return _with_card(
        p,
        {
            "payment_no": p.payment_no,
            "payment_code": p.payment_code,
            "deposit_amount": money(p.deposit_amount),
            "amount": money(p.payment_amount),
            "description": p.payment_name,
            "detail": p.payment_detail,
        },
    )


_CARD_FIELDS = ("is_stored_value", "card_no", "card_load_id", "hold_id")


def _with_card(part: LineItem | Payment, info: dict[str, Any]) -> dict[str, Any]:
    """A card line's or payment's stored-value references (issue 26), only where they are
    set: a log without cards keeps v1's shape. The number is masked; the stored-value
    service finds the card by its load or hold."""
    for name in _CARD_FIELDS:
        value = getattr(part, name, None)
        if value:
            info[name] = value
    return info


def tax_info(t: Tax) -> dict[str, Any]:
    return {
        "tax_no": t.tax_no,
        "tax_code": t.tax_code,
        "tax_type": t.tax_type.value,
        "tax_name": t.tax_name,
        "tax_amount": money(t.tax_amount),
        "target_amount": money(t.target_amount),
        "target_quantity": t.target_quantity,
    }


def sales_info(cart: Cart, reference_date_time: str) -> dict[str, Any]:
    return {
        "reference_date_time": reference_date_time,
        "total_amount": money(cart.total_amount),
        "total_amount_with_tax": money(cart.total_amount_with_tax),
        "tax_amount": money(cart.tax_amount),
        "total_quantity": cart.total_quantity,
        "change_amount": money(cart.change_amount),
        "total_discount_amount": money(cart.total_discount_amount),
        "is_cancelled": cart.is_cancelled,
        "is_stamp_duty_applied": cart.is_stamp_duty_applied,
        "stamp_duty_target_amount": money(cart.stamp_duty_target_amount),
        "stamp_duty_amount": money(cart.stamp_duty_amount),
    }


def _text_lines(raw: str | None) -> list[dict[str, str]] | None:
    """RECEIPT_HEADERS / RECEIPT_FOOTERS: a JSON list of `{text, align}` (spec §10.1 step 5);
    an invalid align becomes `left`, other entries are dropped."""
    if not raw:
        return None
    try:
        value = json.loads(raw)
    except ValueError:
        return None
    if not isinstance(value, list):
        return None
    lines = []
    for entry in value:
        if isinstance(entry, dict):
            align = str(entry.get("align") or "left").lower()
            lines.append(
                {
                    "text": str(entry.get("text") or ""),
                    "align": align if align in ALIGNS else "left",
                }
            )
    return lines


def additional_info(parameters: dict[str, str | None]) -> dict[str, Any]:
    info: dict[str, Any] = {}
    number = parameters.get(INVOICE_REGISTRATION_NUMBER)
    if number:
        info["invoice_registration_number"] = number
    for key, name in (("receipt_headers", RECEIPT_HEADERS), ("receipt_footers", RECEIPT_FOOTERS)):
        lines = _text_lines(parameters.get(name))
        if lines is not None:
            info[key] = lines
    return info


def receipt_range(parameters: dict[str, str | None], start: int, end: int) -> tuple[int, int]:
    """Parameter values arrive as strings (spec §18.4): coerce, and fall back when invalid."""

    def number(name: str, default: int) -> int:
        try:
            return int(str(parameters.get(name) or default).strip())
        except ValueError:
            return default

    lo, hi = number(RECEIPT_NO_START_VALUE, start), number(RECEIPT_NO_END_VALUE, end)
    return (lo, hi) if 0 < lo <= hi else (start, end)


def receipt_number(sequence: int, start: int, end: int) -> int:
    """The n-th receipt number (n from 1) in start..end, wrapping around after end."""
    return start + (sequence - 1) % (end - start + 1)


def from_cart(
    doc: CartDocument,
    terminal: TerminalInfo,
    *,
    transaction_no: int,
    receipt_no: int,
    generate_date_time: str,
    reference_date_time: str,
    event_id: str,
) -> dict[str, Any]:
    cart = doc.cart
    return {
        "tenant_id": cart.tenant_id,
        "store_code": cart.store_code,
        "store_name": cart.store_name,
        "terminal_no": cart.terminal_no,
        "terminal_id": doc.terminal_id,
        "transaction_no": transaction_no,
        "transaction_type": cart.transaction_type,
        "receipt_no": receipt_no,
        "business_date": cart.business_date,
        "open_counter": doc.open_counter,
        "business_counter": doc.business_counter,
        "generate_date_time": generate_date_time,
        "source_id": f"cart:{cart.cart_id}",
        "event_id": event_id,
        "user": person(cart.user),
        "sales": sales_info(cart, reference_date_time),
        "line_items": [line_info(line) for line in cart.line_items],
        "payments": [payment_info(p) for p in cart.payments],
        "taxes": [tax_info(t) for t in cart.taxes],
        "subtotal_discounts": [discount_info(d) for d in cart.subtotal_discounts],
        "origin": None,
        "staff": person(terminal.staff or cart.staff),
        "additional_info": additional_info(doc.masters.parameters),
    }


def origin_of(original: dict[str, Any]) -> dict[str, Any]:
    return {
        key: original.get(key)
        for key in (
            "generate_date_time",
            "tenant_id",
            "store_code",
            "store_name",
            "terminal_no",
            "transaction_no",
            "transaction_type",
            "receipt_no",
        )
    }


def reversal(
    original: TranlogDocument,
    terminal: TerminalInfo,
    *,
    new_type: int,
    transaction_no: int,
    receipt_no: int,
    now: str,
    staff: dict[str, Any] | None,
    payments: list[Payment],
    event_id: str,
    part: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The log of a void or return (spec §13): a copy of the original's lines, taxes and
    totals (a return: `part`, see `returned_part`), stamped with the acting terminal, its new
    numbers and the refund tenders (pure)."""
    fields = original.model_dump(
        mode="json",
        exclude=set(PRIVATE_FIELDS) | {"event_id", "receipt_text", "journal_text"},
    )
    fields.update(
        store_code=terminal.store_code,
        terminal_no=terminal.terminal_no,
        terminal_id=terminal.terminal_id,
        transaction_no=transaction_no,
        transaction_type=new_type,
        receipt_no=receipt_no,
        business_date=terminal.business_date,
        open_counter=terminal.open_counter,
        business_counter=terminal.business_counter,
        generate_date_time=now,
        source_id=f"{new_type}:{event_id}",
        event_id=event_id,
        origin=origin_of(original.model_dump(mode="json")),
        payments=[payment_info(p) for p in payments],
        staff=staff,
        sales={**original.sales, "reference_date_time": now, "change_amount": 0.0},
        is_voided=False,
        is_refunded=False,
    )
    if part is not None:
        fields.update(part)
        fields["sales"] = {**part["sales"], "reference_date_time": now, "change_amount": 0.0}
    return fields


def _with_amounts(entries: list[dict[str, Any]], amounts: tuple[Decimal, ...]) -> list[dict]:
    return [{**d, "discount_amount": money(a)} for d, a in zip(entries, amounts, strict=True)]


def returned_part(original: TranlogDocument, share: ReturnShare, *, whole: bool) -> dict[str, Any]:
    """The lines, taxes, subtotal discounts and totals of a return (issue 25): only the lines
    and units returned, each value the share `pricing.returns` computed (pure). A return of
    the whole sale at once keeps the sale's stamp duty, as v1's whole return did."""
    by_no = {line["line_no"]: line for line in original.line_items}
    lines = []
    by_seq: dict[Any, Decimal] = {}
    for part in share.lines:
        line = by_no[part.line_no]
        allocated = line.get("discounts_allocated") or []
        for d, amount in zip(allocated, part.allocations, strict=True):
            by_seq[d.get("seq_no")] = by_seq.get(d.get("seq_no"), ZERO) + amount
        lines.append(
            {
                **line,
                "quantity": part.quantity,
                "amount": money(part.amount),
                "discounts": _with_amounts(line.get("discounts") or [], part.discounts),
                "discounts_allocated": _with_amounts(allocated, part.allocations),
            }
        )
    numbers = {t["tax_code"]: t for t in original.taxes}
    taxes = [
        {
            **numbers[t.tax_code],
            "tax_amount": money(t.tax_amount),
            "target_amount": money(t.target_amount),
            "target_quantity": t.target_quantity,
        }
        for t in share.taxes
    ]
    subtotal = [
        {**d, "discount_amount": money(by_seq.get(d.get("seq_no"), ZERO))}
        for d in original.subtotal_discounts
    ]
    sales = {
        **original.sales,
        "total_amount": money(share.total_amount),
        "total_amount_with_tax": money(share.total_amount_with_tax),
        "tax_amount": money(share.tax_amount),
        "total_quantity": share.total_quantity,
        "total_discount_amount": money(share.total_discount_amount),
    }
    if not whole:
        sales.update(
            is_stamp_duty_applied=False, stamp_duty_target_amount=0.0, stamp_duty_amount=0.0
        )
    return {
        "line_items": lines,
        "taxes": taxes,
        "subtotal_discounts": subtotal,
        "sales": sales,
    }
