"""Credentials never reach a log line: query strings, free text (uvicorn's and httpx's plain
lines, exception texts) and structured events."""

from __future__ import annotations

import io
import json
import logging

import pytest
import structlog

from kugelpos.common.observability.logging import configure_logging
from kugelpos.common.observability.redaction import (
    REDACTED,
    SecretScrubber,
    is_secret_name,
    redact,
    scrub_query,
    scrub_text,
)

JWT = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJhZG1pbiIsInRlbmFudF9pZCI6IlQxIn0"
    ".pEAWtKL4F9I70AS2T_oPSQILstLMmvPqBbG7mhXrVkc"
)


@pytest.mark.parametrize(
    "name",
    [
        "token",
        "access_token",
        "id_token",
        "api_key",
        "apiKey",
        "api-key",
        "X-API-KEY",
        "key",
        "pin",
        "pinCode",
        "staff_pin",
        "password",
        "new_password",
        "passwd",
        "pwd",
        "client_secret",
        "jwt",
        "auth",
        "authorization",
        "credentials",
        "signature",
        "sig",
        "%74oken",  # percent-encoded "token"
        "pass",
    ],
)
def test_credential_names(name: str) -> None:
    assert is_secret_name(name)


@pytest.mark.parametrize(
    "name",
    [
        "terminal_id",
        "store_code",
        "limit",
        "page",
        "sort",
        "business_date",
        "open_counter",
        "include_cancelled",
        "shipping",
        "mapping",
        "monkey",
        "storeCode",
        "transaction_type",
    ],
)
def test_ordinary_names(name: str) -> None:
    assert not is_secret_name(name)


def test_scrub_query_masks_values_and_keeps_names() -> None:
    query = (
        f"token={JWT}&terminal_id=T1-S1-1&apiKey=k-123&pin=9876&password=p%20w&limit=10"
        f"&access_token=abc&redirect={JWT}"
    )
    scrubbed = scrub_query(query)
    assert scrubbed == (
        "token=***&terminal_id=T1-S1-1&apiKey=***&pin=***&password=***&limit=10"
        "&access_token=***&redirect=***"
    )
    assert scrub_query("") == ""
    assert scrub_query("a=1&b") == "a=1&b"


def test_scrub_text_masks_pairs_jwts_and_schemes() -> None:
    line = f'127.0.0.1:5 - "WebSocket /api/v1/ws/T1/S1?token={JWT}" [accepted]'
    assert scrub_text(line) == '127.0.0.1:5 - "WebSocket /api/v1/ws/T1/S1?token=***" [accepted]'
    assert JWT not in scrub_text(f"bad token {JWT} refused")
    assert scrub_text("Authorization: Bearer abcdefghijkl.mnop") == "Authorization: Bearer ***"
    assert scrub_text("GET /x?api_key=k1&limit=5 200") == "GET /x?api_key=***&limit=5 200"
    assert scrub_text("kaboom with password=hunter2") == "kaboom with password=***"
    assert scrub_text("nothing to hide here") == "nothing to hide here"
    assert scrub_text("count=3 limit=5") == "count=3 limit=5"


def test_scrub_text_masks_a_card_number_in_a_path() -> None:
    """Issue 26: the stored-value paths carry a card's number; its access log line and the
    cart's httpx line show the last four digits only."""
    line = "HTTP Request: POST http://h/api/v1/tenants/T1/cards/9402713358602514/holds 201"
    assert scrub_text(line) == (
        "HTTP Request: POST http://h/api/v1/tenants/T1/cards/************2514/holds 201"
    )
    assert scrub_text("/api/v1/tenants/T1/cards/9402713358602514") == (
        "/api/v1/tenants/T1/cards/************2514"
    )
    assert redact({"path": "/t/T1/cards/9402713358602514/ledger"}) == {
        "path": "/t/T1/cards/************2514/ledger"
    }
    # Not a card number: a short code, a listing, another resource.
    for text in ("/cards/1234", "/api/v1/tenants/T1/cards?kind=gift", "/items/9402713358602514"):
        assert scrub_text(text) == text


def test_redact_scrubs_strings_inside_events() -> None:
    event = {"url": f"/ws?token={JWT}", "detail": ["ok", f"Bearer {JWT}"], "n": 1}
    assert redact(event) == {"url": "/ws?token=***", "detail": ["ok", "Bearer ***"], "n": 1}


def test_scrubber_rewrites_message_and_traceback() -> None:
    record = logging.LogRecord(
        "uvicorn.error",
        logging.INFO,
        __file__,
        1,
        '%s - "WebSocket %s" [accepted]',
        ("127.0.0.1:1", f"/api/v1/ws/T/S?token={JWT}"),
        None,
    )
    assert SecretScrubber().filter(record) is True
    assert record.getMessage() == '127.0.0.1:1 - "WebSocket /api/v1/ws/T/S?token=***" [accepted]'
    try:
        raise RuntimeError(f"calling /x?api_key=k-999 with {JWT}")
    except RuntimeError:
        import sys

        failed = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed", None, sys.exc_info())
    SecretScrubber().filter(failed)
    assert failed.exc_text and "k-999" not in failed.exc_text and JWT not in failed.exc_text
    assert "api_key=***" in failed.exc_text


def test_configured_logging_scrubs_plain_library_lines(monkeypatch: pytest.MonkeyPatch) -> None:
    """uvicorn logs a WebSocket handshake with its URL on `uvicorn.error`, through a handler of
    its own; httpx logs every URL it calls. After `configure_logging`, neither shows a
    credential, and uvicorn's access log stays off."""
    own = io.StringIO()
    uvicorn_logger = logging.getLogger("uvicorn")
    handler = logging.StreamHandler(own)  # as uvicorn's dictConfig installs before the app
    uvicorn_logger.addHandler(handler)
    stdout = io.StringIO()
    monkeypatch.setattr("sys.stdout", stdout)
    try:
        configure_logging("commons-test")
        logging.getLogger("uvicorn.error").info(
            '%s - "WebSocket %s" [accepted]', "127.0.0.1:1", f"/ws/T/S?token={JWT}"
        )
        logging.getLogger("httpx").info("HTTP Request: GET http://h/x?pin=4711 200")
        logging.getLogger("some.library").warning("retrying http://h/y?access_token=t-55")
        assert logging.getLogger("uvicorn.access").disabled
        structlog.get_logger("t").info("called", url=f"http://h/z?token={JWT}")
    finally:
        uvicorn_logger.removeHandler(handler)
    printed = own.getvalue() + stdout.getvalue()
    assert "token=***" in own.getvalue()
    for secret in (JWT, "4711", "t-55"):
        assert secret not in printed
    (event,) = [json.loads(line) for line in stdout.getvalue().splitlines() if line[:1] == "{"]
    assert event["url"] == "http://h/z?token=***"
    assert REDACTED in event["url"]
