"""What must never reach a log line: credentials under secret-sounding keys, in query strings
and in free text (a URL in a library's message, an exception's text).

Used by the structlog pipeline (`logging.py`), the access log (`middleware.py`) and a filter on
the standard-library loggers that print plain text (uvicorn, httpx), so one set of rules decides
everywhere.
"""

from __future__ import annotations

import logging
import re
from typing import Any
from urllib.parse import unquote_plus

REDACTED = "***"

# Keys whose values must never reach a log line, whatever logged them.
SECRET_KEY = re.compile(
    r"(?i:pass(word)?|secret|token|api[_-]?key|authorization|hashed)"
    r"|(?i:^pin)|(?i:[_-]pin(_?code)?$)|[a-z]Pin(Code)?$"
)

# A query parameter (or a `name=value` pair in text) holds a credential when its name, lowered
# and stripped of separators, contains one of these...
_SECRET_FRAGMENTS = (
    "token",
    "passw",
    "passphrase",
    "secret",
    "apikey",
    "jwt",
    "credential",
    "signature",
    "authoriz",
)
# ...or when one of its words (snake, kebab or camel case) is one of these.
_SECRET_WORDS = frozenset({"pin", "pincode", "pass", "pwd", "key", "sig", "auth"})
_WORD = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+")
_NOT_ALNUM = re.compile(r"[^a-z0-9]")

# A JWT (base64url of '{"' starts every header) and an Authorization-style credential.
_JWT = re.compile(r"eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*")
_SCHEME = re.compile(r"\b(Bearer|bearer|Basic)\s+[A-Za-z0-9._~+/-]{8,}=*")
# `name=value` inside free text: the value runs to the next separator of a URL or a message.
_PAIR = re.compile(r"([A-Za-z0-9_.~%\[\]-]+)=([^&\s\"',;<>]*)")
# A stored-value card number in a path (`…/cards/9402713358602514/holds`, issue 26): the
# access log and httpx's request lines show it masked to its last four digits, as
# commons.cards.masked does everywhere else.
_CARD_IN_PATH = re.compile(r"(/cards/)(\d{8,15})(\d{4})(?!\d)")


def is_secret_name(name: str) -> bool:
    """A parameter or field name that announces a credential (`token`, `api_key`, `apiKey`,
    `access_token`, `pin`, `password`, `client_secret`, ...), percent-encoded or not."""
    plain = unquote_plus(name)
    flat = _NOT_ALNUM.sub("", plain.lower())
    if any(fragment in flat for fragment in _SECRET_FRAGMENTS):
        return True
    return any(word.lower() in _SECRET_WORDS for word in _WORD.findall(plain))


def scrub_query(query: str) -> str:
    """A query string with every credential's value replaced by `***` (names kept, so a log
    still shows that one was sent); a JWT is masked whatever its parameter is called."""
    if not query:
        return query
    parts = []
    for part in query.split("&"):
        name, sep, value = part.partition("=")
        if sep and (is_secret_name(name) or _JWT.search(unquote_plus(value))):
            parts.append(f"{name}={REDACTED}")
        else:
            parts.append(_JWT.sub(REDACTED, part))
    return "&".join(parts)


def _mask_pair(match: re.Match[str]) -> str:
    name = match.group(1)
    return f"{name}={REDACTED}" if is_secret_name(name) else match.group(0)


def scrub_text(text: str) -> str:
    """Free text with credentials masked: `name=value` pairs with a secret name, JWTs,
    `Bearer`/`Basic` credentials and card numbers in a `/cards/` path."""
    if "/cards/" in text:
        text = _CARD_IN_PATH.sub(lambda m: f"{m.group(1)}{'*' * len(m.group(2))}{m.group(3)}", text)
    if "=" not in text and "eyJ" not in text and "earer" not in text and "Basic" not in text:
        return text  # the common case costs five substring checks
    text = _PAIR.sub(_mask_pair, text)
    text = _JWT.sub(REDACTED, text)
    return _SCHEME.sub(lambda m: f"{m.group(1)} {REDACTED}", text)


def redact(value: Any) -> Any:
    """A log event's values with secrets masked: by key at any depth, and in strings."""
    if isinstance(value, dict):
        return {
            k: REDACTED if isinstance(k, str) and SECRET_KEY.search(k) else redact(v)
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [redact(v) for v in value]
    if isinstance(value, str):
        return scrub_text(value)
    return value


class SecretScrubber(logging.Filter):
    """Masks credentials in a standard-library record's message and traceback text.

    uvicorn logs a WebSocket handshake with its whole URL (`?token=<JWT>` of the v1 stock
    alerts) and httpx logs every URL it calls; neither goes through structlog."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record is the logging module's to report
            return True
        clean = scrub_text(message)
        if clean != message:
            record.msg, record.args = clean, None
        if record.exc_info and not record.exc_text:
            record.exc_text = scrub_text(logging.Formatter().formatException(record.exc_info))
        return True
