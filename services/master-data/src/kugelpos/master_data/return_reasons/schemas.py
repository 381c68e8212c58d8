"""API models of return reasons."""

from __future__ import annotations

from pydantic import StrictBool

from kugelpos.common.schemas import ApiModel

from ..schemas import Code, Name, TimestampedResponse


class ReturnReasonUpdateRequest(ApiModel):
    description: Name
    # Strict: "no" or 0 for a flag that decides whether stock comes back is a mistake, not a value.
    restock: StrictBool
    requires_approval: StrictBool = False


class ReturnReasonCreateRequest(ReturnReasonUpdateRequest):
    reason_code: Code


class ReturnReasonResponse(TimestampedResponse):
    reason_code: str
    description: str
    restock: bool
    requires_approval: bool


class ReturnReasonDeleteResponse(ApiModel):
    reason_code: str
