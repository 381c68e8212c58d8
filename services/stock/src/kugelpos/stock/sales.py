"""Sales into stock (§B4), pure: which changes one transaction log makes."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from kugelpos.common.events.logs import TransactionLog

from .quantities import DECIMAL_PLACES
from .stocks.documents import UpdateType
from .stocks.service import StockChange

# transaction_type -> (update type, sign of the stock change)
SALE_EFFECTS: dict[int, tuple[UpdateType, int]] = {
    101: (UpdateType.SALE, -1),
    102: (UpdateType.RETURN, 1),
    201: (UpdateType.VOID, 1),
    202: (UpdateType.VOID_RETURN, -1),
}


# A return whose reason does not restock (issue 25: additional_info.restock false, e.g.
# DAMAGED), and the void of such a return, move nothing; their history rows say why.
RESTOCKING_TYPES = frozenset({102, 202})


def not_restocked(log: TransactionLog) -> str | None:
    """The note of a return that takes nothing back (None: it restocks). A return without a
    reason, or from v1 (no `additional_info`), restocks as before."""
    if log.transaction_type not in RESTOCKING_TYPES:
        return None
    info = (log.model_extra or {}).get("additional_info")
    if not isinstance(info, dict) or info.get("restock") is not False:
        return None
    return f"not restocked: {info.get('return_reason_code') or 'no reason'}"


class BadLine(ValueError):
    """A line whose quantity is not a usable number (the event can never be applied)."""


def _quantity(line: dict[str, Any], index: int) -> Decimal:
    raw = line.get("quantity", 0)
    if isinstance(raw, bool):
        raise BadLine(f"line_items.{index}.quantity: not a number")
    try:
        value = Decimal(repr(raw)) if isinstance(raw, float) else Decimal(str(raw))
    except InvalidOperation as exc:
        raise BadLine(f"line_items.{index}.quantity: not a number") from exc
    if not value.is_finite():
        raise BadLine(f"line_items.{index}.quantity: not finite")
    if value.as_tuple().exponent < -DECIMAL_PLACES:  # type: ignore[operator]
        raise BadLine(f"line_items.{index}.quantity: more than {DECIMAL_PLACES} decimals")
    if value.adjusted() >= 15:
        raise BadLine(f"line_items.{index}.quantity: too large")
    return value


def stock_changes(log: TransactionLog, *, event_id: str | None = None) -> list[StockChange]:
    """One change per line that moves stock; none for other types and cancelled sales, nor
    for the lines that sell stored value (gift cards, issue 26).

    Lines with the same item stay separate (one history row each, as in v1)."""
    effect = SALE_EFFECTS.get(log.transaction_type)
    if effect is None or log.is_cancelled:
        return []
    update_type, sign = effect
    note = not_restocked(log)
    reference = str(log.transaction_no)
    key = f"{log.terminal_no}-{log.transaction_no}"
    changes = []
    for index, line in enumerate(log.line_items):
        if not isinstance(line, dict) or line.get("is_cancelled"):
            continue
        if line.get("is_stored_value"):
            continue  # a gift card sold is money put on a card, not goods off a shelf
        item_code = line.get("item_code")
        if not isinstance(item_code, str) or not item_code or len(item_code) > 64:
            raise BadLine(f"line_items.{index}.item_code: missing or not a code")
        quantity = _quantity(line, index)
        if quantity <= 0:
            continue
        changes.append(
            StockChange(
                store_code=log.store_code,
                item_code=item_code,
                quantity_change=Decimal(0) if note else quantity * sign,
                update_type=update_type,
                reference_id=reference,
                transaction_key=key,
                event_id=event_id,
                note=note,
            )
        )
    return changes
