"""The response envelope of every endpoint: seven keys, always present."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


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
    return {
        "success": False,
        "code": code,
        "message": message,
        "userError": {"code": code, "message": user_message},
        "data": None,
        "metadata": None,
        "operation": operation,
    }
