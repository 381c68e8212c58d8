"""Every failure becomes the envelope with the right status; nothing internal leaks."""

from __future__ import annotations

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..envelope import error_body
from ..errors import AppError, ErrorCode
from ..messages import language_from_header, user_message
from ..money import AMOUNT_PRECISION

log = structlog.get_logger(__name__)

_HTTP_STATUS_CODES = {
    400: ErrorCode.INVALID_FORMAT,
    401: ErrorCode.AUTHENTICATION_FAILED,
    403: ErrorCode.PERMISSION_DENIED,
    404: ErrorCode.NOT_FOUND,
    405: ErrorCode.INVALID_OPERATION,
    413: ErrorCode.PAYLOAD_TOO_LARGE,
    422: ErrorCode.INVALID_INPUT,
}
_MAX_ERRORS_SHOWN = 5
_MAX_MSG_CHARS = 200


def _operation(request: Request) -> str | None:
    route = request.scope.get("route")
    return getattr(route, "name", None)


def envelope_response(
    request: Request,
    *,
    status: int,
    code: str,
    message: str,
    headers: dict[str, str] | None = None,
    error: AppError | None = None,
) -> JSONResponse:
    language = language_from_header(request.headers.get("accept-language"))
    body = error_body(
        code=code,
        message=message,
        user_message=user_message(code, language, error),
        operation=_operation(request),
    )
    return JSONResponse(body, status_code=status, headers=headers)


async def app_error_handler(request: Request, exc: AppError) -> JSONResponse:
    if exc.status_code >= 500:
        log.error("app_error", code=exc.error_code, error=exc.message)
    return envelope_response(
        request,
        status=exc.status_code,
        code=exc.error_code,
        message=exc.message,
        headers=exc.headers,
        error=exc,
    )


def _describe(errors: list[dict]) -> str:
    """Field path and reason only: the offending input is never echoed (it may be 1 MB)."""
    parts = []
    for err in errors[:_MAX_ERRORS_SHOWN]:
        location = " -> ".join(str(p) for p in err.get("loc", ()))
        parts.append(f"{location}: {str(err.get('msg', ''))[:_MAX_MSG_CHARS]}")
    more = len(errors) - _MAX_ERRORS_SHOWN
    if more > 0:
        parts.append(f"... and {more} more")
    return "; ".join(parts)


def _only_amount_precision(errors: list[dict]) -> bool:
    """A well-formed request whose only fault is an amount finer than the currency (`1.5`
    yen): a 400, like the services' own amount rules, not the 422 of a malformed body."""
    return bool(errors) and all(e.get("type") == AMOUNT_PRECISION for e in errors)


def _amount_precision_response(request: Request, errors: list[dict]) -> JSONResponse:
    return envelope_response(
        request,
        status=400,
        code=ErrorCode.INVALID_INPUT,
        message=f"Invalid amount: {_describe(errors)}",
    )


async def request_validation_handler(request: Request, exc: RequestValidationError) -> JSONResponse:
    errors = list(exc.errors())
    if _only_amount_precision(errors):
        return _amount_precision_response(request, errors)
    missing = errors and all(e.get("type") == "missing" for e in errors)
    code = ErrorCode.REQUIRED_FIELD_MISSING if missing else ErrorCode.INVALID_INPUT
    return envelope_response(
        request, status=422, code=code, message=f"Invalid input data: {_describe(errors)}"
    )


async def model_validation_handler(request: Request, exc: ValidationError) -> JSONResponse:
    errors = list(exc.errors())
    if _only_amount_precision(errors):
        return _amount_precision_response(request, errors)
    return envelope_response(
        request,
        status=422,
        code=ErrorCode.INVALID_INPUT,
        message=f"Validation error: {_describe(errors)}",
    )


async def http_exception_handler(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    code = _HTTP_STATUS_CODES.get(exc.status_code, ErrorCode.GENERAL)
    return envelope_response(
        request,
        status=exc.status_code,
        code=code,
        message=str(exc.detail),
        headers=getattr(exc, "headers", None),
    )


async def unexpected_error_handler(request: Request, exc: Exception) -> JSONResponse:
    log.error("unexpected_error", error_type=type(exc).__name__, exc_info=exc)
    return envelope_response(
        request, status=500, code=ErrorCode.UNEXPECTED, message="Internal server error"
    )


def install_exception_handlers(app: FastAPI) -> None:
    app.add_exception_handler(AppError, app_error_handler)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, request_validation_handler)  # type: ignore[arg-type]
    app.add_exception_handler(ValidationError, model_validation_handler)  # type: ignore[arg-type]
    app.add_exception_handler(StarletteHTTPException, http_exception_handler)  # type: ignore[arg-type]
    app.add_exception_handler(Exception, unexpected_error_handler)
