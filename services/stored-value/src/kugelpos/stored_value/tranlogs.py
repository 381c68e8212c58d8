"""What a transaction log asks of the cards (pure: read the log, say the movements).

A log never carries a whole card number (the journal keeps logs as they come, and numbers
are shown masked everywhere but where a card is issued). It names what the cart registered
here while the customer stood at the till: on a line that sells a card, its pending load
(`card_load_id`); on a payment by card, the hold its payment placed (`hold_id`); on a refund
to a card, its pending load (`card_load_id`). `card_no` beside them is the masked number,
for receipts. From those:

| log                     | line `card_load_id` | payment `hold_id` | payment `card_load_id` |
|-------------------------|---------------------|-------------------|------------------------|
| sale (101)              | apply               | capture           | apply                  |
| cancelled sale (101)    | -                   | release           | -                      |
| return (102)            | reverse             | -                 | apply (refund)         |
| void of a sale (201)    | reverse             | refund            | reverse                |
| void of a return (202)  | -                   | -                 | reverse                |

Each movement is keyed by its load or hold, so a log applied twice (the inbox stops that
first), or two logs naming one load, move a card once."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from kugelpos.common.events.logs import TransactionLog
from kugelpos.common.transactions import TransactionType

LOAD_ID = "card_load_id"
HOLD_ID = "hold_id"


class BadLog(ValueError):
    """A log whose stored-value parts cannot be right (not a refusal of a card)."""


class Step(StrEnum):
    APPLY = "apply"  # a pending load onto its card
    REVERSE = "reverse"  # an applied load off its card
    CAPTURE = "capture"  # a hold
    RELEASE = "release"  # a hold
    REFUND = "refund"  # a captured hold back onto its card


@dataclass(frozen=True, slots=True)
class Action:
    step: Step
    id: str  # the load's or the hold's


_SALE = int(TransactionType.NORMAL_SALES)
_RETURN = int(TransactionType.RETURN_SALES)
_VOID_SALE = int(TransactionType.VOID_SALES)
_VOID_RETURN = int(TransactionType.VOID_RETURN)

# transaction type -> (line load, payment hold, payment load)
_PLAN: dict[int, tuple[Step | None, Step | None, Step | None]] = {
    _SALE: (Step.APPLY, Step.CAPTURE, Step.APPLY),
    _RETURN: (Step.REVERSE, None, Step.APPLY),
    _VOID_SALE: (Step.REVERSE, Step.REFUND, Step.REVERSE),
    _VOID_RETURN: (None, None, Step.REVERSE),
}
_CANCELLED: tuple[Step | None, Step | None, Step | None] = (None, Step.RELEASE, None)


def actions(log: TransactionLog) -> list[Action]:
    lines = [x for x in log.line_items if x.get(LOAD_ID) and not x.get("is_cancelled")]
    payments = [p for p in log.payments if p.get(LOAD_ID) or p.get(HOLD_ID)]
    if not lines and not payments:
        return []
    if log.transaction_type == _SALE and log.is_cancelled:
        plan = _CANCELLED
    else:
        plan = _PLAN.get(log.transaction_type, (None, None, None))
    line_step, hold_step, load_step = plan
    found: list[Action] = []
    if line_step is not None:
        found += [Action(line_step, _id(x, LOAD_ID)) for x in lines]
    for p in payments:
        if p.get(HOLD_ID) and p.get(LOAD_ID):
            raise BadLog("a payment names a hold and a load")
        step, key = (hold_step, HOLD_ID) if p.get(HOLD_ID) else (load_step, LOAD_ID)
        if step is not None:
            found.append(Action(step, _id(p, key)))
    return found


def _id(part: dict[str, Any], key: str) -> str:
    value = part.get(key)
    if not isinstance(value, str) or not 0 < len(value) <= 64:
        raise BadLog(f"{key} must be a string of 1-64 characters")
    return value
