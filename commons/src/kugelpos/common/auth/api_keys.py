"""Terminal API keys: random, shown once, stored only as a hash, compared in constant time.

Keys carry 256 bits of entropy, so a fast SHA-256 digest is enough (no need for bcrypt's cost,
which would slow every terminal request).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

API_KEY_BYTES = 32


def generate_api_key() -> str:
    return secrets.token_urlsafe(API_KEY_BYTES)


def hash_api_key(api_key: str) -> str:
    return hashlib.sha256(api_key.encode("utf-8")).hexdigest()


def verify_api_key(api_key: str, hashed: str) -> bool:
    return hmac.compare_digest(hash_api_key(api_key), hashed)


def secrets_equal(given: str, expected: str) -> bool:
    """Constant-time comparison of two shared secrets."""
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))
