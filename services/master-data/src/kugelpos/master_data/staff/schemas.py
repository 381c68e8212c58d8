"""API models of staff members. The PIN goes in, never out: v1 clients require a `pin`
string, so responses carry a mask (or "" when none is set) and `hasPin` tells which."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StringConstraints

from kugelpos.common.schemas import ApiModel

from ..schemas import Code, Name, TimestampedResponse

PIN_MASK = "*****"
Pin = Annotated[str, StringConstraints(min_length=1, max_length=64)]
RoleName = Annotated[str, StringConstraints(min_length=1, max_length=64)]


class StaffCreateRequest(ApiModel):
    id: Code
    name: Name
    pin: Pin
    roles: list[RoleName] = Field(max_length=32)


class StaffUpdateRequest(ApiModel):
    name: Name
    pin: Pin
    roles: list[RoleName] = Field(max_length=32)


class StaffResponse(TimestampedResponse):
    id: str
    name: str
    pin: str = ""
    has_pin: bool = False
    roles: list[str] = []


class StaffDeleteResponse(ApiModel):
    staff_id: str


class PinVerifyRequest(ApiModel):
    pin: Pin


class PinVerifyResponse(ApiModel):
    valid: bool
