"""What a transaction log asks of the cards (pure: read the log, say the movements).

The cart writes, on a log's line that sells a card, `card_no`; on a payment by card, `card_no`
and the `hold_id` its payment placed; on a refund to a card, `card_no`. From those:

| log                          | lines with `card_no`  | payments with `card_no`            |
|------------------------------|-----------------------|------------------------------------|
| sale (101)                   | load (activates)      | capture the hold                   |
| cancelled sale (101)         | -                     | release the hold                   |
| return (102)                 | unload                | refund onto the card               |
| void of a sale (201)         | unload                | refund onto the card               |
| void of a return (202)       | load                  | unload (the refund taken back)     |

Each movement's key is the log's natural key plus the line or payment number, so a log
applied twice (the inbox stops that first) still moves a card once."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from kugelpos.common.events.logs import TransactionLog
from kugelpos.common.transactions import TransactionType

from .cards.numbers import is_valid
from .ledger.documents import Movement


class BadLog(ValueError):
    """A log whose stored-value parts cannot be right (not a refusal of a card)."""


@dataclass(frozen=True, slots=True)
class CardMove:
    """Money onto (`LOAD`, `REFUND`) or off (`UNLOAD`) a card."""

    kind: Movement
    card_no: str
    amount: int
    key: str


@dataclass(frozen=True, slots=True)
class HoldMove:
    """A hold captured (`CAPTURE`) or released (`RELEASE`)."""

    kind: Movement
    hold_id: str
    card_no: str
    amount: int
    key: str


type Action = CardMove | HoldMove

_SALE = int(TransactionType.NORMAL_SALES)
_RETURN = int(TransactionType.RETURN_SALES)
_VOID_SALE = int(TransactionType.VOID_SALES)
_VOID_RETURN = int(TransactionType.VOID_RETURN)


def minor_units(value: Any, decimals: int) -> int:
    """A log's amount (major units, a JSON number) as the card's integer, exactly."""
    try:
        scaled = Decimal(str(value)).scaleb(decimals)
    except (InvalidOperation, ValueError) as exc:
        raise BadLog(f"amount {value!r} is not a number") from exc
    if scaled != scaled.to_integral_value() or scaled < 0:
        raise BadLog(f"amount {value!r} is not a whole, non-negative number of minor units")
    return int(scaled)


def actions(log: TransactionLog, *, decimals: int) -> list[Action]:
    kind = log.transaction_type
    key = log.natural_key()
    lines = [x for x in log.line_items if x.get("card_no") and not x.get("is_cancelled")]
    payments = [p for p in log.payments if p.get("card_no")]
    if not lines and not payments:
        return []
    found: list[Action] = []
    if kind == _SALE and log.is_cancelled:
        for p in payments:
            if p.get("hold_id"):
                found.append(_hold(Movement.RELEASE, p, key, decimals))
        return found
    line_kind = {_SALE: Movement.LOAD, _RETURN: Movement.UNLOAD, _VOID_SALE: Movement.UNLOAD}
    line_kind[_VOID_RETURN] = Movement.LOAD
    payment_kind = {_RETURN: Movement.REFUND, _VOID_SALE: Movement.REFUND}
    payment_kind[_VOID_RETURN] = Movement.UNLOAD
    if kind not in line_kind:
        return []
    for line in lines:
        found.append(_card(line_kind[kind], line, f"{key}:l{line.get('line_no')}", decimals))
    for p in payments:
        if kind == _SALE:
            if not p.get("hold_id"):
                raise BadLog("a card payment of a sale names no hold_id")
            found.append(_hold(Movement.CAPTURE, p, key, decimals))
        else:
            found.append(_card(payment_kind[kind], p, f"{key}:p{p.get('payment_no')}", decimals))
    return found


def _card_no(part: dict[str, Any]) -> str:
    card_no = str(part.get("card_no"))
    if not is_valid(card_no):
        raise BadLog("card_no is not a valid card number")
    return card_no


def _card(kind: Movement, part: dict[str, Any], key: str, decimals: int) -> CardMove:
    if "quantity" in part and part.get("quantity") != 1:
        raise BadLog("a line selling a card has quantity 1 (one card, one line)")
    amount = minor_units(part.get("amount"), decimals)
    return CardMove(kind, _card_no(part), amount, f"{kind.value}:{key}")


def _hold(kind: Movement, part: dict[str, Any], key: str, decimals: int) -> HoldMove:
    amount = minor_units(part.get("amount"), decimals)
    hold_id = str(part.get("hold_id"))
    return HoldMove(kind, hold_id, _card_no(part), amount, f"{kind.value}:{key}:{hold_id}")
