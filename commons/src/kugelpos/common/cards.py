"""Stored-value card numbers as every service shows them (issue 26): masked to their last four
digits everywhere but in the one answer that issues a card (stored value), so that the cart's
answers, the transaction logs, the journal and the logs never carry one whole."""

from __future__ import annotations


def masked(card_no: str) -> str:
    """`************1234`."""
    return "*" * max(len(card_no) - 4, 0) + card_no[-4:]
