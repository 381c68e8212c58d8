"""The response envelope of every endpoint: seven keys, always present.

Error bodies carry one more key, `user_error`: the same `{code, message}` as `userError`,
because v1 services serialised their error envelope without aliases and v1 clients read the
snake_case key. Success bodies have exactly the seven keys (v1 sent `userError` there).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

# The error key v1 clients read (see the module docstring).
V1_USER_ERROR_KEY = "user_error"


class UserError(BaseModel):
    code: str | None = None
    message: str | None = None


class Metadata(BaseModel):
    total: int
    page: int
    limit: int
    sort: str | None = None
    filter: dict[str, Any] | None = None


class ApiResponse[T](BaseModel):
    """On success `code` is the HTTP status; on error it is the six-digit application code."""

    model_config = ConfigDict(populate_by_name=True, serialize_by_alias=True)

    success: bool = True
    code: int | str = 200
    message: str | None = None
    user_error: UserError | None = Field(default=None, alias="userError")
    data: T | None = None
    metadata: Metadata | None = None
    operation: str | None = None


def ok[T](
    data: T,
    *,
    message: str | None = None,
    operation: str | None = None,
    code: int = 200,
    metadata: Metadata | None = None,
) -> ApiResponse[T]:
    return ApiResponse[T](
        success=True, code=code, message=message, data=data, metadata=metadata, operation=operation
    )


def error_body(
    *, code: str, message: str, user_message: str, operation: str | None
) -> dict[str, Any]:
    user_error = {"code": code, "message": user_message}
    return {
        "success": False,
        "code": code,
        "message": message,
        "userError": user_error,
        # v1 compatibility: the key v1 clients read (see the module docstring).
        V1_USER_ERROR_KEY: dict(user_error),
        "data": None,
        "metadata": None,
        "operation": operation,
    }
