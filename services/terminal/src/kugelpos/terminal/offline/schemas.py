"""API models of offline numbers (their block shape is commons' `offline_numbers`) and
sessions."""

from __future__ import annotations

from typing import Annotated

from pydantic import StringConstraints

from kugelpos.common.schemas import ApiModel


class OfflineNumbersRequest(ApiModel):
    """`size` is checked by the service (1..1,000: a 400 envelope)."""

    size: int


class Session(ApiModel):
    business_date: str
    open_counter: int
    business_counter: int | None = None
    opened_at: str | None = None
    closed_at: str | None = None


BusinessDate = Annotated[str, StringConstraints(pattern=r"^\d{8}$")]
