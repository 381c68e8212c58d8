"""Password hashing with bcrypt.

bcrypt reads only the first 72 bytes; passwords are pre-hashed (SHA-256, base64: 44 bytes) so
every byte counts instead of being silently dropped.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from functools import cache

import bcrypt

BCRYPT_MAX_BYTES = 72


def _prepare(password: str) -> bytes:
    # Every password is pre-hashed, not only long ones: hashing only some would let a short
    # password equal to another's digest log in as it.
    return base64.b64encode(hashlib.sha256(password.encode("utf-8")).digest())


def hash_password(password: str, rounds: int = 12) -> str:
    return bcrypt.hashpw(_prepare(password), bcrypt.gensalt(rounds=rounds)).decode("ascii")


def verify_password(password: str, hashed: str) -> bool:
    try:
        return bcrypt.checkpw(_prepare(password), hashed.encode("ascii"))
    except ValueError:
        return False


@cache
def dummy_hash() -> str:
    """A real hash to check against when the user does not exist, so timing reveals nothing."""
    return hash_password(secrets.token_urlsafe(16))
