"""Card numbers and PINs: made, checked and shown (pure functions, no I/O).

A number is 16 digits: the prefix `9` (no payment network uses it, so a till's reader never
takes it for a bank card), 14 random digits and a Luhn check digit that catches a mistyped
digit or two swapped neighbours before any lookup. The 14 digits come from `secrets`, so one
card's number says nothing about another's (a batch is not a sequence). Outside the one
answer that issues a card, a number is shown masked to its last four digits.
"""

from __future__ import annotations

import re
import secrets

from kugelpos.common.cards import masked

PREFIX = "9"
LENGTH = 16
_RANDOM_DIGITS = LENGTH - len(PREFIX) - 1
CARD_NO = re.compile(r"^[0-9]{16}$")
PIN_DIGITS = 6
PIN = re.compile(r"^[0-9]{4,8}$")
__all__ = ["is_valid", "last4", "luhn_digit", "masked", "new_card_no", "new_pin"]


def luhn_digit(body: str) -> str:
    """The check digit that makes `body + digit` pass the Luhn test."""
    total = 0
    # From the right of the body, every other digit (starting with the rightmost) is doubled.
    for i, char in enumerate(reversed(body)):
        d = int(char)
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return str((10 - total % 10) % 10)


def is_valid(card_no: str) -> bool:
    """16 digits whose last is the Luhn check digit of the others."""
    return bool(CARD_NO.fullmatch(card_no)) and luhn_digit(card_no[:-1]) == card_no[-1]


def new_card_no() -> str:
    body = PREFIX + f"{secrets.randbelow(10**_RANDOM_DIGITS):0{_RANDOM_DIGITS}d}"
    return body + luhn_digit(body)


def new_pin() -> str:
    return f"{secrets.randbelow(10**PIN_DIGITS):0{PIN_DIGITS}d}"


def last4(card_no: str) -> str:
    return card_no[-4:]
