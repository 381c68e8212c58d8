"""API models of a batch adjustment (camelCase on the wire)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, field_validator

from kugelpos.common.schemas import ApiModel

from ..quantities import Quantity
from ..stocks.schemas import StockUpdateResponse, Text
from ..stocks.service import RESERVED_ITEM_CODES

MAX_LINES = 1000
ItemCode = Annotated[str, Field(min_length=1, max_length=64)]


class AdjustmentLineRequest(ApiModel):
    item_code: ItemCode
    quantity_change: Quantity
    reason: Annotated[str, Field(min_length=1, max_length=1000)]

    @field_validator("item_code")
    @classmethod
    def _addressable(cls, value: str) -> str:
        if value in RESERVED_ITEM_CODES:
            raise ValueError(f"{value!r} is a path segment, not an item code")
        return value

    @field_validator("quantity_change")
    @classmethod
    def _moves_stock(cls, value):  # type: ignore[no-untyped-def]
        if value == 0:
            raise ValueError("a line that changes nothing")
        return value


class AdjustmentRequest(ApiModel):
    lines: Annotated[list[AdjustmentLineRequest], Field(min_length=1, max_length=MAX_LINES)]
    operator_id: Text | None = None


class AdjustmentResponse(ApiModel):
    adjustment_id: str
    store_code: str
    lines: list[StockUpdateResponse]
