"""JSON logs through structlog; every line carries the service and the request id."""

from __future__ import annotations

import logging
import sys
from typing import Any

import structlog

from .context import current_request_id
from .redaction import REDACTED, SecretScrubber, redact

__all__ = ["REDACTED", "configure_logging", "redact"]

# Standard-library loggers that print plain text beside the JSON lines: their records are
# scrubbed where they are made, whatever handler prints them (uvicorn installs its own).
_PLAIN_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.asgi", "httpx", "httpcore")
_SCRUBBER = SecretScrubber()


def _add_request_id(_: Any, __: str, event: dict[str, Any]) -> dict[str, Any]:
    request_id = current_request_id()
    if request_id and "request_id" not in event:
        event["request_id"] = request_id
    return event


def _redact_secrets(_: Any, __: str, event: dict[str, Any]) -> dict[str, Any]:
    return redact(event)


def _scrub_standard_logging() -> None:
    targets: list[logging.Filterer] = list(logging.getLogger().handlers)
    for name in _PLAIN_LOGGERS:
        logger = logging.getLogger(name)
        targets += [logger, *logger.handlers]
    for target in targets:
        if _SCRUBBER not in target.filters:
            target.addFilter(_SCRUBBER)


def configure_logging(service: str, level: str = "INFO") -> None:
    numeric = logging.getLevelName(level.upper())
    if not isinstance(numeric, int):
        numeric = logging.INFO
    logging.basicConfig(format="%(message)s", stream=sys.stdout, level=numeric, force=True)
    # uvicorn's access log would print plain text (and whole URLs) beside the JSON lines; the
    # access middleware writes one scrubbed line per request instead.
    logging.getLogger("uvicorn.access").disabled = True
    _scrub_standard_logging()
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            _add_request_id,
            structlog.processors.format_exc_info,
            # After the traceback is rendered, so an exception's text is scrubbed too.
            _redact_secrets,
            structlog.processors.JSONRenderer(ensure_ascii=False),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        # No `file=`: structlog then prints to whatever `sys.stdout` is at write time, so a
        # replaced stdout (test capture, a closed stream) is never kept in a cached logger.
        logger_factory=structlog.PrintLoggerFactory(),
        cache_logger_on_first_use=True,
    )
    structlog.contextvars.bind_contextvars(service=service)
