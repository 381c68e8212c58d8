"""API models of offline numbers and sessions."""

from __future__ import annotations

from typing import Annotated

from pydantic import StringConstraints

from kugelpos.common.schemas import ApiModel


class OfflineNumbersRequest(ApiModel):
    """`size` is checked by the service (1..1,000: a 400 envelope)."""

    size: int


class OfflineNumbers(ApiModel):
    block_id: str
    transaction_no_from: int
    transaction_no_to: int
    receipt_no_from: int
    receipt_no_to: int
    created_at: str | None = None
    by: str | None = None


class NumberRange(ApiModel):
    transaction_no_from: int
    transaction_no_to: int


class OfflineNumbersUse(OfflineNumbers):
    used_count: int
    unused_count: int
    unused: list[NumberRange]


class Session(ApiModel):
    business_date: str
    open_counter: int
    business_counter: int | None = None
    opened_at: str | None = None
    closed_at: str | None = None


BusinessDate = Annotated[str, StringConstraints(pattern=r"^\d{8}$")]
