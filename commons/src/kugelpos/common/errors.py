"""The application error hierarchy: every failure a client can see has a six-digit code
(`XXYYZZ`: category, feature, number) and an HTTP status.

Services raise these (or subclasses carrying their own 40xxxx codes); the handlers in
`web.handlers` turn them into the response envelope.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar


class ErrorCode:
    """Common codes shared by every service (service codes live in each service)."""

    GENERAL = "100000"
    NOT_FOUND = "100001"
    AUTHENTICATION_FAILED = "200001"
    PERMISSION_DENIED = "200002"
    TOO_MANY_ATTEMPTS = "200003"
    INVALID_INPUT = "300001"
    REQUIRED_FIELD_MISSING = "300002"
    INVALID_FORMAT = "300003"
    INVALID_OPERATION = "300004"
    PAYLOAD_TOO_LARGE = "300005"
    DATABASE_ERROR = "500001"
    CANNOT_CREATE = "500002"
    CANNOT_UPDATE = "500003"
    CANNOT_DELETE = "500004"
    DUPLICATE_KEY = "500005"
    CONFLICT = "500009"
    EXTERNAL_SERVICE = "600001"
    SERVICE_UNAVAILABLE = "600002"
    SYSTEM_ERROR = "900001"
    UNEXPECTED = "900999"


_COMMON_CODES = frozenset(
    value for name, value in vars(ErrorCode).items() if not name.startswith("_")
)


class AppError(Exception):
    """Base of every error a client may see. Subclasses set `code` and `status`, and a class
    that introduces a code of its own (a service's `40xxxx`...) declares what users read for
    it, `messages` (`{"en": ..., "ja": ...}`): the envelope's `userError.message` in the
    request's language. Defining such a class without them fails at once, so no service can
    forget them; the common codes' texts are in `messages.py`."""

    code: ClassVar[str] = ErrorCode.GENERAL
    status: ClassVar[int] = 500
    messages: ClassVar[Mapping[str, str] | None] = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        own = vars(cls)
        if "code" in own and own["code"] not in _COMMON_CODES:
            texts = own.get("messages")
            if not texts or not texts.get("en"):
                raise TypeError(
                    f"{cls.__qualname__} introduces error code {own['code']} without the "
                    "messages users read for it (`messages = {'en': ..., 'ja': ...}`)"
                )

    @classmethod
    def messages_for(cls, code: str) -> Mapping[str, str] | None:
        """The texts this class or an ancestor declares for `code` (None: the code is not
        theirs, e.g. a common code given at raise time)."""
        for klass in cls.__mro__:
            texts = vars(klass).get("messages")
            if texts is not None:
                return texts if vars(klass).get("code") == code else None
        return None

    def __init__(
        self,
        message: str | None = None,
        *,
        code: str | None = None,
        status: int | None = None,
        details: Any = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.message = message or self.__class__.__name__
        self.error_code = code or self.code
        self.status_code = status or self.status
        self.details = details
        self.headers = headers
        super().__init__(self.message)


class NotFoundError(AppError):
    code = ErrorCode.NOT_FOUND
    status = 404


class AlreadyExistsError(AppError):
    code = ErrorCode.DUPLICATE_KEY
    status = 409


class ConflictError(AppError):
    """A concurrent change won (ETag mismatch, lost race); the client may retry."""

    code = ErrorCode.CONFLICT
    status = 409


class InvalidInputError(AppError):
    code = ErrorCode.INVALID_INPUT
    status = 422


class BadRequestError(AppError):
    code = ErrorCode.INVALID_FORMAT
    status = 400


class InvalidOperationError(AppError):
    """The request is well-formed but not allowed in the current state."""

    code = ErrorCode.INVALID_OPERATION
    status = 400


class AuthenticationError(AppError):
    code = ErrorCode.AUTHENTICATION_FAILED
    status = 401

    def __init__(self, message: str = "Authentication failed", **kwargs: Any) -> None:
        kwargs.setdefault("headers", {"WWW-Authenticate": "Bearer"})
        super().__init__(message, **kwargs)


class PermissionDeniedError(AppError):
    code = ErrorCode.PERMISSION_DENIED
    status = 403


class TooManyAttemptsError(AppError):
    code = ErrorCode.TOO_MANY_ATTEMPTS
    status = 429


class DatabaseError(AppError):
    code = ErrorCode.DATABASE_ERROR
    status = 500


class ExternalServiceError(AppError):
    """Another service answered with an error or could not be reached."""

    code = ErrorCode.EXTERNAL_SERVICE
    status = 502


class ServiceUnavailableError(AppError):
    """A dependency is down or its circuit is open; retrying later may succeed."""

    code = ErrorCode.SERVICE_UNAVAILABLE
    status = 503
