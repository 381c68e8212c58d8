"""Dapr's error responses: an HTTP status plus `{"errorCode", "message"}`, as daprd sends them."""

from fastapi import Request
from fastapi.responses import JSONResponse


class DaprError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def malformed(message: str) -> DaprError:
    return DaprError(400, "ERR_MALFORMED_REQUEST", message)


async def dapr_error_handler(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DaprError)
    return JSONResponse({"errorCode": exc.code, "message": exc.message}, status_code=exc.status)
