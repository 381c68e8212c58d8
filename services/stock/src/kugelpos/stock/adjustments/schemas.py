"""API models of a batch adjustment (camelCase on the wire)."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from pydantic import Field, field_validator

from kugelpos.common.schemas import ApiModel

from ..quantities import Quantity
from ..stocks.schemas import LineItemCode, StockUpdateResponse, Text

MAX_LINES = 1000


class AdjustmentLineRequest(ApiModel):
    item_code: LineItemCode
    quantity_change: Quantity
    reason: Annotated[str, Field(min_length=1, max_length=1000)]

    @field_validator("quantity_change")
    @classmethod
    def _moves_stock(cls, value: Decimal) -> Decimal:
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
