"""Why a card refuses a movement, said once for every path (HTTP, events, expiry)."""

from __future__ import annotations

from kugelpos.common.errors import AppError

from ..errors import (
    BalanceLimitError,
    CardNotFoundError,
    CardNotUsableError,
    InsufficientBalanceError,
)
from .documents import CardDocument, CardStatus
from .numbers import masked


def spend_refusal(card: CardDocument | None, card_no: str, amount: int) -> AppError:
    """The error for a hold or debit of `amount` that `book` refused."""
    if card is None:
        return CardNotFoundError(f"Card {masked(card_no)} not found")
    if card.status is not CardStatus.ACTIVE:
        return CardNotUsableError(f"Card {masked(card_no)} is {card.status.value}")
    return InsufficientBalanceError(
        f"Card {masked(card_no)} balance {card.balance} is less than {amount}",
        details={"balance": card.balance, "amount": amount},
    )


def load_refusal(card: CardDocument | None, card_no: str, amount: int, limit: int) -> AppError:
    """The error for a load or refund of `amount` that `book` refused."""
    if card is None:
        return CardNotFoundError(f"Card {masked(card_no)} not found")
    if card.status is CardStatus.EXPIRED:
        return CardNotUsableError(f"Card {masked(card_no)} is expired")
    return BalanceLimitError(
        f"Card {masked(card_no)} balance {card.balance} plus {amount} exceeds {limit}",
        details={"balance": card.balance, "amount": amount, "limit": limit},
    )
