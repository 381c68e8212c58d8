"""JSON logs through structlog; every line carries the service and the request id."""

from __future__ import annotations

import logging
import re
import sys
from typing import Any

import structlog

from .context import current_request_id

# Keys whose values must never reach a log line, whatever logged them.
_SECRET_KEY = re.compile(
    r"(?i:pass(word)?|secret|token|api[_-]?key|authorization|hashed)"
    r"|(?i:^pin)|(?i:[_-]pin(_?code)?$)|[a-z]Pin(Code)?$"
)
REDACTED = "***"


def redact(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            k: REDACTED if isinstance(k, str) and _SECRET_KEY.search(k) else redact(v)
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [redact(v) for v in value]
    return value


def _add_request_id(_: Any, __: str, event: dict[str, Any]) -> dict[str, Any]:
    request_id = current_request_id()
    if request_id and "request_id" not in event:
        event["request_id"] = request_id
    return event


def _redact_secrets(_: Any, __: str, event: dict[str, Any]) -> dict[str, Any]:
    return redact(event)


def configure_logging(service: str, level: str = "INFO") -> None:
    numeric = logging.getLevelName(level.upper())
    if not isinstance(numeric, int):
        numeric = logging.INFO
    logging.basicConfig(format="%(message)s", stream=sys.stdout, level=numeric, force=True)
    # Library loggers would otherwise print plain text beside the JSON lines.
    logging.getLogger("uvicorn.access").disabled = True
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            _add_request_id,
            _redact_secrets,
            structlog.processors.format_exc_info,
            structlog.processors.JSONRenderer(ensure_ascii=False),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        # No `file=`: structlog then prints to whatever `sys.stdout` is at write time, so a
        # replaced stdout (test capture, a closed stream) is never kept in a cached logger.
        logger_factory=structlog.PrintLoggerFactory(),
        cache_logger_on_first_use=True,
    )
    structlog.contextvars.bind_contextvars(service=service)
