"""What a new user's name and password must be, beyond their shape (length, no whitespace at
the ends of a name), which the API models check.

- a password must not be one of the most common passwords (`common_passwords.txt`, compared
  case-insensitively and without surrounding whitespace), nor only whitespace (text that is not
  valid Unicode, a lone surrogate, is refused by the request's parsing already);
- a user name must not hold control, formatting (invisible) or surrogate characters anywhere:
  it is shown in lists, logs and receipts.

Refusals are 422 with their own 408xxx code, raised before anything is hashed or written.
"""

from __future__ import annotations

import unicodedata
from functools import cache
from pathlib import Path

from ..errors import (
    PasswordBlankError,
    PasswordTooCommonError,
    UsernameInvalidCharactersError,
)

COMMON_PASSWORDS_FILE = Path(__file__).with_name("common_passwords.txt")
# Cc control, Cf format (zero-width and direction marks), Cs lone surrogates.
_REFUSED_IN_NAMES = frozenset({"Cc", "Cf", "Cs"})


@cache
def common_passwords() -> frozenset[str]:
    lines = COMMON_PASSWORDS_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip() for line in lines if line.strip() and not line.startswith("#"))


def check_username(username: str) -> None:
    if any(unicodedata.category(ch) in _REFUSED_IN_NAMES for ch in username):
        raise UsernameInvalidCharactersError(
            "The user name must not contain control, invisible or surrogate characters"
        )


def check_password(password: str) -> None:
    # The messages never repeat the password: error messages reach logs and other screens.
    if not password.strip():
        raise PasswordBlankError("The password must not be only whitespace")
    if password.strip().lower() in common_passwords():
        raise PasswordTooCommonError("This password is one of the most common; choose another")


def check_new_user(username: str, password: str) -> None:
    check_username(username)
    check_password(password)
